import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { isGatewayError } from '../errors/gateway-error.ts';
import { silentLogger } from '../observability/logger.ts';
import type { ModelRouteConfig } from '../providers/config-types.ts';
import { type AttemptReport, createUpstream, type UpstreamOptions } from './index.ts';
import {
  chatRequest,
  type FakeProvider,
  fakeAdapter,
  type Handler,
  okChat,
  providerConfig,
  recordingSleep,
  route,
  startFakeProvider,
  target,
} from './testing/fake-provider.ts';

/** Never answers; remembers when the gateway closes the connection. */
function hang(closed: { count: number }): Handler {
  return (req) => {
    req.socket.once('close', () => {
      closed.count++;
    });
  };
}

async function setup(t: TestContext, handlers: Handler[], extra: Partial<UpstreamOptions> = {}) {
  const fakes: FakeProvider[] = await Promise.all(handlers.map((h) => startFakeProvider(h)));
  const up = createUpstream({
    providers: new Map(fakes.map((f, i) => [`p${i}`, providerConfig(`p${i}`, f.url)])),
    adapterFor: () => fakeAdapter,
    log: silentLogger(),
    random: () => 0,
    sleep: recordingSleep().sleep,
    ...extra,
  });
  t.after(async () => {
    await up.close();
    await Promise.all(fakes.map((f) => f.close()));
  });
  return { fakes, up };
}

function call(r: ModelRouteConfig, signal = new AbortController().signal, reports: AttemptReport[] = []) {
  return {
    requestId: 'req-1',
    publicModel: 'public-model',
    route: r,
    signal,
    log: silentLogger(),
    onAttempt: (a: AttemptReport) => reports.push(a),
  };
}

test('an attempt that exceeds the attempt timeout is abandoned and the fallback serves the request', async (t) => {
  const closed = { count: 0 };
  const { fakes, up } = await setup(t, [hang(closed), okChat('fallback')]);
  const reports: AttemptReport[] = [];
  const r = await up.chat(
    call(route([target('p0', 'm', 1, 1), target('p1', 'm', 1, 2)], { attemptTimeoutMs: 100 }), undefined, reports),
    chatRequest,
  );
  assert.equal(r.target.provider, 'p1');
  assert.deepEqual(
    reports.map((x) => x.result),
    ['timeout', 'success'],
  );
  assert.equal(fakes[0]!.requests.length, 1);
  while (closed.count === 0) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(closed.count, 1, 'the abandoned upstream request was cancelled');
});

test('every attempt timing out → upstream.timeout', async (t) => {
  const closed = { count: 0 };
  const { up } = await setup(t, [hang(closed)]);
  const r = route([target('p0')], {
    attemptTimeoutMs: 50,
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
  });
  await assert.rejects(up.chat(call(r), chatRequest), (e) => isGatewayError(e) && e.code === 'upstream.timeout');
});

test('the route deadline bounds all attempts together: it ends the request even with attempts left', async (t) => {
  const closed = { count: 0 };
  const { fakes, up } = await setup(t, [hang(closed), hang(closed)]);
  const reports: AttemptReport[] = [];
  // Each attempt alone would be allowed 10 s; the whole route only 150 ms.
  const r = route([target('p0', 'm', 1, 1), target('p1', 'm', 1, 2)], { timeoutMs: 150, attemptTimeoutMs: 10_000 });
  const err = await up.chat(call(r, undefined, reports), chatRequest).catch((e: unknown) => e);
  assert.ok(isGatewayError(err));
  assert.equal(err.code, 'upstream.timeout');
  assert.equal(reports.length, 1, 'no second attempt started after the deadline');
  assert.equal(fakes[1]!.requests.length, 0);
});

test('a wait that would overrun the deadline is not taken', async (t) => {
  const { sleep, waits } = recordingSleep();
  const { up } = await setup(
    t,
    [
      (_q, res) => {
        res.writeHead(429, { 'retry-after': '5' });
        res.end();
      },
    ],
    { sleep },
  );
  const r = route([target('p0')], { timeoutMs: 1000 });
  await assert.rejects(
    up.chat(call(r), chatRequest),
    (e) => isGatewayError(e) && e.code === 'upstream.rate_limited' && e.retryAfterS === 5,
  );
  assert.deepEqual(waits, []);
});

test('client abort cancels the in-flight upstream request and rethrows the abort reason', async (t) => {
  const closed = { count: 0 };
  const { fakes, up } = await setup(t, [hang(closed)]);
  const client = new AbortController();
  const reports: AttemptReport[] = [];
  const pending = up.chat(call(route([target('p0')]), client.signal, reports), chatRequest);
  while (fakes[0]!.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
  const reason = new Error('client went away');
  client.abort(reason);
  await assert.rejects(pending, (e) => e === reason);
  while (closed.count === 0) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(fakes[0]!.requests.length, 1, 'not retried');
  assert.deepEqual(
    reports.map((x) => x.result),
    ['aborted'],
  );
});

test('client abort during a backoff wait stops the request without another attempt', async (t) => {
  const client = new AbortController();
  const reason = new Error('gone');
  const sleep = (_ms: number, signal: AbortSignal) =>
    new Promise<void>((_resolve, reject) => {
      signal.addEventListener('abort', () => reject(new Error('sleep aborted')), { once: true });
      client.abort(reason);
    });
  const { fakes, up } = await setup(
    t,
    [
      (_q, res) => {
        res.writeHead(502);
        res.end();
      },
    ],
    { sleep, random: () => 1 },
  );
  await assert.rejects(up.chat(call(route([target('p0')]), client.signal), chatRequest), (e) => e === reason);
  assert.equal(fakes[0]!.requests.length, 1);
});

test('half-open lets exactly one trial through while it is in flight', async (t) => {
  let clock = 0;
  let release: (() => void) | undefined;
  const { fakes, up } = await setup(
    t,
    [
      (_q, res) => {
        res.writeHead(500);
        res.end();
      },
    ],
    { now: () => clock },
  );
  const r = route([target('p0')], {
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
    circuitBreaker: { failureThreshold: 1, openMs: 500 },
  });
  await assert.rejects(up.chat(call(r), chatRequest), (e) => isGatewayError(e) && e.code === 'upstream.unavailable');
  clock += 500;
  fakes[0]!.handle = (_q, res) => {
    release = () => okChat()(_q, res, '');
  };
  const trial = up.chat(call(r), chatRequest);
  while (release === undefined) await new Promise((resolve) => setImmediate(resolve));
  await assert.rejects(up.chat(call(r), chatRequest), (e) => isGatewayError(e) && e.code === 'upstream.unavailable');
  release();
  assert.equal((await trial).kind, 'chat');
  assert.equal(fakes[0]!.requests.length, 2);
});
