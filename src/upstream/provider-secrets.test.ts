/**
 * Provider text quoting the gateway's own credentials, attacked at the upstream module: a
 * provider error message, a mid-stream error event and an exception raised while reading the
 * answer all quote the provider's API key and a header secret; nothing of either reaches the
 * log lines, the error's internal detail or its cause.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { type GatewayError, isGatewayError } from '../errors/gateway-error.ts';
import { createLogger } from '../observability/logger.ts';
import { type ProviderAdapter, UpstreamProtocolError } from '../providers/contract.ts';
import { createUpstream, providerSecretValues } from './index.ts';
import {
  chatRequest,
  fakeAdapter,
  type Handler,
  json,
  providerConfig,
  recordingSleep,
  route,
  sseChunk,
  startFakeProvider,
  target,
} from './testing/fake-provider.ts';

const API_KEY = 'sk-gatewayown0123456789abcdefXYZ';
const HEADER_SECRET = 'hdr9Qm2Zx7Lp4Vb8Nc1Kd6Tf3Rg5Wy0';

/** An adapter whose stream translator, like Anthropic's on an `error` event, quotes the provider's text. */
const quotingAdapter: ProviderAdapter = {
  ...fakeAdapter,
  chatStream() {
    const inner = fakeAdapter.chatStream(chatRequest, undefined as never);
    return {
      push(event) {
        if (event.data.includes('"error"')) throw new UpstreamProtocolError(`error event: ${event.data}`);
        return inner.push(event);
      },
      end: () => inner.end(),
      get done() {
        return inner.done;
      },
    };
  },
};

async function setup(t: TestContext, handler: Handler, adapter: ProviderAdapter = fakeAdapter) {
  const fake = await startFakeProvider(handler);
  const lines: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: {
      write: (l: string) => {
        lines.push(l);
      },
    } as never,
  });
  const provider = providerConfig('p0', fake.url, {
    apiKey: API_KEY,
    headers: { 'X-Org-Token': `org ${HEADER_SECRET}` },
    headerSecrets: [HEADER_SECRET],
  });
  const up = createUpstream({
    providers: new Map([['p0', provider]]),
    adapterFor: () => adapter,
    log,
    random: () => 0,
    sleep: recordingSleep().sleep,
  });
  t.after(async () => {
    await fake.close();
    await up.close();
  });
  const call = {
    requestId: 'r1',
    publicModel: 'public-model',
    route: route([target('p0')], { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } } as never),
    signal: new AbortController().signal,
    log,
  };
  return { up, call, lines };
}

function assertClean(what: string, text: string): void {
  for (const secret of [API_KEY, HEADER_SECRET]) {
    assert.equal(text.includes(secret), false, `${what} holds a credential: ${text.slice(0, 400)}`);
    assert.equal(text.includes(secret.slice(4, 18)), false, `${what} holds a piece of a credential`);
  }
}

async function failure(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (e) {
    if (isGatewayError(e)) return e;
    throw e;
  }
  assert.fail('expected a GatewayError');
}

test('providerSecretValues lists api keys and header secrets', () => {
  const values = providerSecretValues([
    providerConfig('a', 'http://x', { apiKey: 'k1-aaaaaaaa', headerSecrets: ['h1-bbbbbbbb'] }),
    providerConfig('b', 'http://y', { apiKey: undefined }),
  ]);
  assert.deepEqual(values, ['k1-aaaaaaaa', 'h1-bbbbbbbb']);
});

for (const status of [400, 401, 500]) {
  test(`a ${status} whose message quotes the gateway's key leaves no credential in logs or the error`, async (t) => {
    const { up, call, lines } = await setup(t, (_q, res) =>
      json(res, status, {
        error: {
          message: `Invalid request made with API key ${API_KEY} (header org ${HEADER_SECRET}), truncated: ${API_KEY.slice(0, 20)}`,
          code: `code-${API_KEY}`,
        },
      }),
    );
    const err = await failure(up.chat(call, chatRequest));
    const logged = lines.join('\n');
    assert.match(logged, /Invalid request made with API key \[redacted\]/, 'the message itself is still logged');
    assertClean('the log', logged);
    assertClean('the error', JSON.stringify({ internal: err.internal, message: err.message }));
  });
}

test('a mid-stream error event quoting the key: the interrupted-stream log, detail and cause are clean', async (t) => {
  const { up, call, lines } = await setup(
    t,
    (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sseChunk('Hel'));
      setTimeout(
        () => res.end(`data: {"type":"error","message":"overloaded for key ${API_KEY} / ${HEADER_SECRET}"}\n\n`),
        20,
      );
    },
    quotingAdapter,
  );
  const r = await up.chat(call, { ...chatRequest, stream: true });
  assert.equal(r.kind, 'chat-stream');
  const err = await failure(
    (async () => {
      for await (const _ of (r as { stream: AsyncIterable<unknown> }).stream) {
        /* drain */
      }
    })(),
  );
  assert.equal(err.code, 'upstream.stream_interrupted');
  const logged = lines.join('\n');
  assert.match(logged, /overloaded for key \[redacted\]/);
  assertClean('the log', logged);
  const cause = err.cause as Error;
  assert.match(cause.message, /\[redacted\]/);
  assertClean('the error', JSON.stringify({ internal: err.internal }) + cause.message + (cause.stack ?? ''));
});
