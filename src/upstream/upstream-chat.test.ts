import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { type TestContext, test } from 'node:test';
import { type GatewayError, isGatewayError } from '../errors/gateway-error.ts';
import { createLogger, silentLogger } from '../observability/logger.ts';
import type { ModelRouteConfig, ProviderConfig } from '../providers/config-types.ts';
import { type AttemptReport, createUpstream, type UpstreamOptions } from './index.ts';
import {
  chatBody,
  chatRequest,
  type FakeProvider,
  fakeAdapter,
  type Handler,
  json,
  okChat,
  providerConfig,
  recordingSleep,
  route,
  startFakeProvider,
  target,
} from './testing/fake-provider.ts';

async function providers(t: TestContext, ...handlers: Handler[]): Promise<FakeProvider[]> {
  const fakes = await Promise.all(handlers.map((h) => startFakeProvider(h)));
  t.after(() => Promise.all(fakes.map((f) => f.close())));
  return fakes;
}

function upstreamFor(
  t: TestContext,
  fakes: FakeProvider[],
  extra: Partial<UpstreamOptions> = {},
  cfg: Partial<ProviderConfig> = {},
) {
  const map = new Map(fakes.map((f, i) => [`p${i}`, providerConfig(`p${i}`, f.url, cfg)]));
  const up = createUpstream({
    providers: map,
    adapterFor: () => fakeAdapter,
    log: silentLogger(),
    random: () => 0,
    ...extra,
  });
  t.after(() => up.close());
  return up;
}

function call(r: ModelRouteConfig, reports: AttemptReport[] = []) {
  return {
    requestId: 'req-1',
    publicModel: 'public-model',
    route: r,
    signal: new AbortController().signal,
    log: silentLogger(),
    onAttempt: (a: AttemptReport) => reports.push(a),
  };
}

const code = (c: string) => (e: unknown) => isGatewayError(e) && e.code === c;
const fail =
  (
    status: number,
    body: unknown = { error: { message: 'provider says no', code: 'x' } },
    headers: Record<string, string> = {},
  ): Handler =>
  (_req, res) =>
    json(res, status, body, headers);

test('happy path: the provider gets the adapter body at base URL + path with only gateway-chosen headers', async (t) => {
  const [p0] = await providers(t, okChat('hi there'));
  const up = upstreamFor(t, [p0!], {}, { headers: { 'x-org': 'acme' } });
  const r = await up.chat(call(route([target('p0', 'gpt-up')])), chatRequest);
  assert.equal(r.kind, 'chat');
  assert.equal(r.kind === 'chat' && r.body.choices[0]?.message.content, 'hi there');
  assert.equal(r.kind === 'chat' && r.body.model, 'public-model');
  assert.equal(r.attempts, 1);
  const seen = p0!.requests[0]!;
  assert.equal(seen.url, '/v1/chat/completions');
  assert.equal(seen.method, 'POST');
  assert.deepEqual(JSON.parse(seen.body), { ...chatRequest, model: 'gpt-up' });
  assert.equal(seen.headers['authorization'], 'Bearer sk-test-p0');
  assert.equal(seen.headers['x-org'], 'acme');
  assert.equal(seen.headers['content-type'], 'application/json');
  assert.equal(seen.headers['accept'], 'application/json');
});

test('embeddings go to the adapter path and come back canonical', async (t) => {
  const emb = {
    object: 'list',
    data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }],
    model: 'e',
    usage: { prompt_tokens: 1, total_tokens: 1 },
  };
  const [p0] = await providers(t, (_q, res) => json(res, 200, emb));
  const up = upstreamFor(t, [p0!]);
  const r = await up.embeddings(call(route([target('p0', 'emb-up')], { type: 'embeddings' })), {
    model: 'public-model',
    input: 'x',
  });
  assert.deepEqual(r.body, emb);
  assert.equal(p0!.requests[0]?.url, '/v1/embeddings');
});

test('falls back by priority: the lower priority number first, the next group on failure, immediately', async (t) => {
  const [a, b] = await providers(t, fail(500), okChat('from fallback'));
  const { sleep, waits } = recordingSleep();
  const up = upstreamFor(t, [a!, b!], { sleep });
  const reports: AttemptReport[] = [];
  const r = await up.chat(call(route([target('p1', 'm', 1, 2), target('p0', 'm', 1, 1)]), reports), chatRequest);
  assert.equal(r.target.provider, 'p1');
  assert.equal(r.attempts, 2);
  assert.deepEqual(
    reports.map((x) => [x.target.provider, x.result, x.status]),
    [
      ['p0', 'server_error', 500],
      ['p1', 'success', 200],
    ],
  );
  assert.deepEqual(waits, [], 'a different target is tried without waiting');
});

test('retries the same target with exponential backoff and full jitter', async (t) => {
  let n = 0;
  const [p0] = await providers(t, (_q, res) => (++n < 4 ? json(res, 502, {}) : json(res, 200, chatBody('finally'))));
  const { sleep, waits } = recordingSleep();
  const up = upstreamFor(t, [p0!], { sleep, random: () => 0.5 });
  const r = await up.chat(
    call(
      route([target('p0')], { retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 300, maxRetryAfterMs: 10_000 } }),
    ),
    chatRequest,
  );
  assert.equal(r.attempts, 4);
  assert.deepEqual(waits, [50, 100, 150], 'half (the jitter draw) of 100, 200, then the 300 cap');
});

test('honours Retry-After before re-trying the same target', async (t) => {
  let n = 0;
  const [p0] = await providers(t, (_q, res) =>
    ++n === 1 ? json(res, 429, {}, { 'retry-after': '2' }) : json(res, 200, chatBody('ok')),
  );
  const { sleep, waits } = recordingSleep();
  const up = upstreamFor(t, [p0!], { sleep });
  const r = await up.chat(call(route([target('p0')])), chatRequest);
  assert.equal(r.attempts, 2);
  assert.deepEqual(waits, [2000]);
});

test('a Retry-After beyond max_retry_after is not waited for: rate_limited carrying the hint', async (t) => {
  const [p0] = await providers(t, fail(429, {}, { 'retry-after': '60' }));
  const { sleep, waits } = recordingSleep();
  const up = upstreamFor(t, [p0!], { sleep });
  const err = await up.chat(call(route([target('p0')])), chatRequest).catch((e: GatewayError) => e);
  assert.ok(isGatewayError(err));
  assert.equal(err.code, 'upstream.rate_limited');
  assert.equal(err.retryAfterS, 60);
  assert.deepEqual(waits, []);
  assert.equal(p0!.requests.length, 1);
});

test('a long Retry-After moves on to another target; all rate limited → the smallest hint', async (t) => {
  const [a, b] = await providers(t, fail(429, {}, { 'retry-after': '60' }), fail(429, {}, { 'retry-after': '30' }));
  const up = upstreamFor(t, [a!, b!], { sleep: recordingSleep().sleep });
  const err = await up
    .chat(call(route([target('p0', 'm', 1, 1), target('p1', 'm', 1, 2)])), chatRequest)
    .catch((e: GatewayError) => e);
  assert.ok(isGatewayError(err));
  assert.equal(err.code, 'upstream.rate_limited');
  assert.equal(err.retryAfterS, 30);
  assert.equal(a!.requests.length + b!.requests.length, 2);
});

test('no retry on 400 or 401; the provider message stays out of the public error', async (t) => {
  const [bad, other] = await providers(
    t,
    fail(400, { error: { message: 'secret-ish provider detail', code: 'invalid' } }),
    okChat(),
  );
  const lines: string[] = [];
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(c, _e, cb) {
        lines.push(String(c));
        cb();
      },
    }),
  });
  const up = upstreamFor(t, [bad!, other!]);
  const r = route([target('p0', 'm', 1, 1), target('p1', 'm', 1, 2)]);
  const err = await up.chat({ ...call(r), log }, chatRequest).catch((e: GatewayError) => e);
  assert.ok(isGatewayError(err));
  assert.equal(err.code, 'upstream.rejected_request');
  assert.ok(!err.message.includes('secret-ish'));
  assert.equal(err.internal['providerMessage'], 'secret-ish provider detail');
  assert.equal(bad!.requests.length, 1);
  assert.equal(other!.requests.length, 0, 'a rejected request is not sent to a fallback either');

  bad!.handle = fail(401);
  await assert.rejects(up.chat({ ...call(r), log }, chatRequest), code('upstream.misconfigured'));
  assert.equal(bad!.requests.length, 2);
  assert.ok(lines.some((l) => l.includes('"level":"error"') && l.includes('credential')));

  bad!.handle = fail(400, { error: { message: 'flagged', code: 'content_filter' } });
  await assert.rejects(up.chat(call(r), chatRequest), code('upstream.content_filtered'));
  bad!.handle = fail(413);
  await assert.rejects(up.chat(call(r), chatRequest), code('upstream.rejected_request'));
  assert.equal(other!.requests.length, 0);
});

test('when every attempt fails, the last failure decides the error', async (t) => {
  const [p0] = await providers(t, fail(503));
  const up = upstreamFor(t, [p0!], { sleep: recordingSleep().sleep });
  const r = route([target('p0')]);
  await assert.rejects(up.chat(call(r), chatRequest), code('upstream.overloaded'));
  assert.equal(p0!.requests.length, 3, 'max_attempts is the total number of attempts');
  p0!.handle = fail(500);
  await assert.rejects(up.chat(call(r), chatRequest), code('upstream.unavailable'));
});

test('a connection refused is retried and reported as unavailable', async (t) => {
  const [p0] = await providers(t, okChat());
  const deadUrl = p0!.url;
  await p0!.close();
  const up = upstreamFor(t, [{ ...p0!, url: deadUrl }], { sleep: recordingSleep().sleep });
  const reports: AttemptReport[] = [];
  await assert.rejects(up.chat(call(route([target('p0')]), reports), chatRequest), code('upstream.unavailable'));
  assert.deepEqual(
    reports.map((x) => x.result),
    ['connection', 'connection', 'connection'],
  );
});

test('a malformed 2xx body is a bad response, retried once and then reported', async (t) => {
  const [p0] = await providers(t, (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"not":"a chat"');
  });
  const up = upstreamFor(t, [p0!], { sleep: recordingSleep().sleep });
  await assert.rejects(
    up.chat(
      call(route([target('p0')], { retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } })),
      chatRequest,
    ),
    code('upstream.bad_response'),
  );
  assert.equal(p0!.requests.length, 2);
  p0!.handle = (_q, res) => json(res, 200, { choices: 'nope' });
  await assert.rejects(up.chat(call(route([target('p0')])), chatRequest), code('upstream.bad_response'));
});

test('a response body that declares more than the size cap is refused as a bad response', async (t) => {
  const [p0] = await providers(t, (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(64 * 1024 * 1024) });
    res.write('{');
  });
  const up = upstreamFor(t, [p0!], { sleep: recordingSleep().sleep });
  await assert.rejects(
    up.chat(
      call(route([target('p0')], { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } })),
      chatRequest,
    ),
    code('upstream.bad_response'),
  );
});

test('all circuit breakers open → fails fast with unavailable, without contacting the provider', async (t) => {
  const [p0] = await providers(t, fail(500));
  const up = upstreamFor(t, [p0!], { sleep: recordingSleep().sleep });
  const r = route([target('p0')], { circuitBreaker: { failureThreshold: 3, openMs: 60_000 } });
  await assert.rejects(up.chat(call(r), chatRequest), code('upstream.unavailable'));
  assert.equal(p0!.requests.length, 3);
  assert.deepEqual(up.breakerStates(), [{ provider: 'p0', model: 'upstream-model', state: 'open' }]);
  await assert.rejects(up.chat(call(r), chatRequest), code('upstream.unavailable'));
  assert.equal(p0!.requests.length, 3);
});

test('an open breaker is skipped in favour of the next target; half-open after open_ms lets one trial close it', async (t) => {
  const [a, b] = await providers(t, fail(500), okChat('b'));
  let clock = 0;
  const up = upstreamFor(t, [a!, b!], { sleep: recordingSleep().sleep, now: () => clock });
  const r = route([target('p0', 'm', 1, 1), target('p1', 'm', 1, 2)], {
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
    circuitBreaker: { failureThreshold: 2, openMs: 1000 },
  });
  await assert.rejects(up.chat(call(r), chatRequest), code('upstream.unavailable'));
  await assert.rejects(up.chat(call(r), chatRequest), code('upstream.unavailable'));
  const skipped = await up.chat(call(r), chatRequest);
  assert.equal(skipped.target.provider, 'p1');
  assert.equal(a!.requests.length, 2);

  clock += 1000;
  assert.equal(up.breakerStates().find((s) => s.provider === 'p0')?.state, 'half-open');
  a!.handle = okChat('a is back');
  const trial = await up.chat(call(r), chatRequest);
  assert.equal(trial.target.provider, 'p0');
  assert.equal(up.breakerStates().find((s) => s.provider === 'p0')?.state, 'closed');
});
