/**
 * The provider emulator's HTTP server: one node:http server serving all five providers under
 * their own path prefixes, plus the /__mock control API. Per request it only parses the
 * body, records it, applies any queued fault and hands over to the provider's emulator.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadTokenCounter } from '../providers/openai/tokenizer.ts';
import { createAnthropicEmulator } from './anthropic/emulator.ts';
import { DEFAULT_MOCK_KEYS, MOCK_PREFIXES } from './constants.ts';
import { CONTROL_PREFIX, handleControl } from './core/control-api.ts';
import { createFaultQueue } from './core/faults.ts';
import { readJsonBody, sendError, sendJson, sleep, withErrorMessage } from './core/http.ts';
import type { Exchange, ProviderEmulator } from './core/provider.ts';
import { createRequestRecorder, redactHeaders, redactPath } from './core/recorder.ts';
import type { MockFault, MockProvider, MockUpstreamOptions, RecordedRequest, Timing } from './core/types.ts';
import { createGeminiEmulator } from './gemini/emulator.ts';
import { createMistralEmulator } from './mistral/emulator.ts';
import { createOpenAiEmulator } from './openai/emulator.ts';

export { DEFAULT_MOCK_KEYS, MOCK_PREFIXES };

export interface MockUpstream {
  /** http://HOST:PORT */
  readonly url: string;
  baseUrl(provider: MockProvider): string;
  /** Same as POST /__mock/faults. Throws on an invalid fault. */
  addFault(fault: MockFault): void;
  clearFaults(): void;
  /** Same as GET /__mock/requests. */
  requests(): RecordedRequest[];
  clearRequests(): void;
  close(): Promise<void>;
}

function nonNegativeInt(value: number | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min)
    throw new RangeError(`mock upstream: ${name} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

export async function startMockUpstream(opts: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const host = opts.host ?? '127.0.0.1';
  const port = nonNegativeInt(opts.port, 'port', 0);
  if (port > 65535) throw new RangeError(`mock upstream: port must be at most 65535, got ${port}`);
  const timing: Timing = {
    latencyMs: nonNegativeInt(opts.latencyMs, 'latencyMs', 0),
    ttftMs: nonNegativeInt(opts.ttftMs, 'ttftMs', 0),
    interTokenMs: nonNegativeInt(opts.interTokenMs, 'interTokenMs', 0),
    chunkTokens: nonNegativeInt(opts.chunkTokens, 'chunkTokens', 1, 1),
  };
  const keys = { ...DEFAULT_MOCK_KEYS, ...opts.keys };
  // OpenAI models' prompts are billed with OpenAI's tokenizer; loading it takes up to a second,
  // so it starts now (while a test starts its gateway) rather than delaying the first answer.
  loadTokenCounter('o200k_base').catch(() => {});
  const emulators: ProviderEmulator[] = [
    createOpenAiEmulator({ provider: 'openai', prefix: MOCK_PREFIXES.openai, key: keys.openai }),
    createOpenAiEmulator({
      provider: 'openai-compatible',
      prefix: MOCK_PREFIXES['openai-compatible'],
      key: keys['openai-compatible'],
    }),
    createAnthropicEmulator({ prefix: MOCK_PREFIXES.anthropic, key: keys.anthropic }),
    createGeminiEmulator({ prefix: MOCK_PREFIXES.gemini, key: keys.gemini }),
    createMistralEmulator({ prefix: MOCK_PREFIXES.mistral, key: keys.mistral }),
  ];
  const faults = createFaultQueue();
  const recorder = createRequestRecorder(nonNegativeInt(opts.maxRecordedRequests, 'maxRecordedRequests', 1000));
  const lifetime = new AbortController();
  let sequence = 0;
  const nextId = (): number => ++sequence;

  async function serveProvider(
    em: ProviderEmulator,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const route = em.route(method, url.pathname.slice(em.prefix.length));
    if (route === undefined) {
      req.resume();
      sendError(res, em.notFound(`${method} ${url.pathname}`));
      return;
    }
    if (!route.needsBody) req.resume();
    const parsed = route.needsBody ? await readJsonBody(req) : { kind: 'empty' as const };
    const body = parsed.kind === 'json' ? parsed.value : undefined;
    const model = em.modelOf(route, body);
    const stream = em.isStream(route, body, url);
    const authError = em.checkAuth(req, url);
    const recorded = recorder.record({
      provider: em.provider,
      method,
      path: redactPath(url),
      model,
      authValid: authError === undefined,
      stream,
      headers: redactHeaders(req.headers),
      body,
    });

    const client = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) recorded.aborted = true;
      client.abort();
    });
    const signal = AbortSignal.any([lifetime.signal, client.signal]);
    if (!(await sleep(timing.latencyMs, signal))) return;
    const fault = faults.take(em.provider, model);
    if (fault?.hangMs !== undefined && !(await sleep(fault.hangMs, signal))) return;
    if (fault?.dropConnection === true) {
      req.socket.destroy();
      return;
    }
    if (fault?.status !== undefined) {
      const reply = em.faultError(fault.status, model, fault.retryAfterS);
      sendError(res, fault.message === undefined ? reply : withErrorMessage(reply, fault.message));
      return;
    }
    if (authError !== undefined) {
      sendError(res, authError);
      return;
    }
    if (parsed.kind === 'too-large') {
      sendError(res, { ...em.tooLarge(), headers: { ...em.tooLarge().headers, connection: 'close' } });
      return;
    }
    if (route.needsBody && parsed.kind !== 'json') {
      sendError(res, em.malformedJson());
      return;
    }
    const exchange: Exchange = {
      req,
      res,
      url,
      route,
      body,
      model,
      stream,
      signal,
      timing,
      breakAfterEvents: fault?.breakStreamAfterEvents,
      omitUsage: fault?.omitUsage === true,
      nextId,
    };
    await em.handle(exchange);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://mock.invalid');
    const work = url.pathname.startsWith(CONTROL_PREFIX)
      ? handleControl(req, res, url.pathname, faults, recorder)
      : (() => {
          const em = emulators.find((e) => url.pathname === e.prefix || url.pathname.startsWith(`${e.prefix}/`));
          if (em !== undefined) return serveProvider(em, req, res, url);
          req.resume();
          sendJson(res, 404, {
            error: `no emulated provider at ${url.pathname}; prefixes: ${Object.values(MOCK_PREFIXES).join(', ')}`,
          });
          return Promise.resolve();
        })();
    work.catch((err: unknown) => {
      // a bug in the emulator must be loud in tests, never a hang
      if (!res.headersSent)
        sendJson(res, 500, { error: `mock upstream failure: ${err instanceof Error ? err.message : String(err)}` });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  let closing: Promise<void> | undefined;

  return {
    url,
    baseUrl: (provider) => `${url}${MOCK_PREFIXES[provider]}`,
    addFault: (fault) => faults.add(fault),
    clearFaults: () => {
      faults.clear();
    },
    requests: () => recorder.list(),
    clearRequests: () => {
      recorder.clear();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        lifetime.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
