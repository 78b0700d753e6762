/**
 * Half-dead backends: two real gateway processes on PostgreSQL and Redis, each reached through
 * a TCP proxy the test freezes (it stops forwarding without closing anything, like a frozen
 * server or a network partition) and releases. One gateway fails closed when Redis cannot
 * answer, the other counts limits and budgets locally (`local_fallback`). Their policies differ,
 * so each has its own database (a store holds one live policy for all its instances).
 *
 * - Frozen Redis: the fail_closed gateway answers `503 limit.backend_unavailable` within
 *   `redis.timeout_ms` (plus the request's own work), the local_fallback one answers 200; after
 *   the release both serve from Redis again, without a restart.
 * - Frozen PostgreSQL: `/readyz` answers 503 within a second; a request that needs the store
 *   gets `503 store.unavailable` within the documented 5 s, and still does after more than 5 s
 *   of outage (the bound does not grow); after the release both recover without a restart.
 *
 * Before the gateway had deadlines of its own, every one of these requests waited for the whole
 * freeze (and then succeeded).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../src/store/postgres/test-database.ts';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const REDIS_URL = process.env['PORTCULLIS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const PREFIX = `portcullis-frozen-it:${randomUUID()}:`;
const KEY_HASH_SECRET = randomBytes(32).toString('base64url');
const REDIS_TIMEOUT_MS = 500;
/** The documented bound for a request that needs the store (README "Scale-out"). */
const STORE_BOUND_MS = 5_000;
/**
 * Slack for a loaded machine (the suite shares two cores with other work) on top of each bound.
 * A hang lasts the whole freeze, which is held for at least FREEZE_MS, so it cannot pass.
 */
const SLACK_MS = 6_000;
const FREEZE_MS = 16_000;

const stateYaml = (onError: 'fail_closed' | 'local_fallback') =>
  [
    'store:',
    '  driver: postgres',
    '  url: "${DATABASE_URL}"',
    '  pool_size: 2',
    'security:',
    '  data_dir: ./state',
    '  key_hash_secret: "${PORTCULLIS_KEY_HASH_SECRET}"',
    'redis:',
    '  url: "${TEST_REDIS_URL}"',
    `  key_prefix: "${PREFIX}"`,
    `  timeout_ms: ${REDIS_TIMEOUT_MS}`,
    'limits:',
    '  backend: redis',
    `  on_backend_error: ${onError}`,
    '  rules:',
    '    - { scope: key, requests_per_minute: 100000 }',
    'budgets:',
    '  backend: redis',
    `  on_backend_error: ${onError}`,
    '  rules:',
    '    - { name: tenant-monthly, scope: tenant, period: month, amount_usd: 1000 }',
    '',
  ].join('\n');

let db: TestDatabase;
/** The fallback gateway's own database: one store is one fleet, and a fleet runs one live policy. */
let fallbackDb: TestDatabase;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let closedGw: RunningGateway;
let fallbackGw: RunningGateway;
let metricsUrl: string;
const METRICS_TOKEN = randomBytes(24).toString('base64url');

const via = (url: string, port: number): string => {
  const u = new URL(url);
  u.host = `127.0.0.1:${port}`;
  return u.toString();
};

before(async () => {
  db = await createTestDatabase('portcullis_test_frozen_it');
  fallbackDb = await createTestDatabase('portcullis_test_frozen_it');
  const pg = new URL(db.url);
  pgProxy = await startTcpProxy({ host: pg.hostname, port: Number(pg.port || 5432) });
  const redis = new URL(REDIS_URL);
  redisProxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
  const env = {
    DATABASE_URL: via(db.url, pgProxy.port),
    TEST_REDIS_URL: via(REDIS_URL, redisProxy.port),
    PORTCULLIS_KEY_HASH_SECRET: KEY_HASH_SECRET,
    PORTCULLIS_IT_METRICS_TOKEN: METRICS_TOKEN,
  };
  closedGw = await startGateway({
    stateYaml: stateYaml('fail_closed'),
    env,
    serverYaml:
      'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\n' +
      'metrics:\n  host: 127.0.0.1\n  port: 0\n  bearer_token: "${PORTCULLIS_IT_METRICS_TOKEN}"\n',
  });
  const line = closedGw
    .output()
    .split('\n')
    .find((l) => l.includes('"metrics listening"'));
  assert.ok(line, `no "metrics listening" line in:\n${closedGw.output()}`);
  metricsUrl = (JSON.parse(line) as { url: string }).url;
  fallbackGw = await startGateway({
    stateYaml: stateYaml('local_fallback'),
    env: { ...env, DATABASE_URL: via(fallbackDb.url, pgProxy.port) },
  });
});
after(async () => {
  pgProxy?.release();
  redisProxy?.release();
  await closedGw?.stop();
  await fallbackGw?.stop();
  await pgProxy?.close();
  await redisProxy?.close();
  await db?.drop();
  await fallbackDb?.drop();
});

function chat(gw: RunningGateway, key: string) {
  return rawRequest(`${gw.url}/v1/chat/completions`, {
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }),
  });
}

/** `portcullis_backend_up{backend="…"}` on the fail_closed gateway. */
async function backendUp(backend: string): Promise<number | undefined> {
  const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const series = `portcullis_backend_up{backend="${backend}"} `;
  const line = (await res.text()).split('\n').find((l) => l.startsWith(series));
  return line === undefined ? undefined : Number(line.slice(series.length));
}

async function timed<T>(p: Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await p;
  return { ms: performance.now() - started, value };
}

async function until(what: string, ok: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('gateways in front of frozen backends', () => {
  test('frozen Redis: fail_closed answers 503 within timeout_ms, local_fallback answers 200; both recover after the release', {
    timeout: 120_000,
  }, async (t) => {
    const [closedKey, fallbackKey] = [await closedGw.createKey(), await fallbackGw.createKey()];
    assert.equal((await chat(closedGw, closedKey)).status, 200);
    assert.equal(await backendUp('redis_limits'), 1);
    assert.equal((await chat(fallbackGw, fallbackKey)).status, 200);

    redisProxy.freeze();
    const frozenAt = performance.now();
    try {
      const [refused, counted] = await Promise.all([
        timed(chat(closedGw, closedKey)),
        timed(chat(fallbackGw, fallbackKey)),
      ]);
      t.diagnostic(
        `frozen Redis: fail_closed answered in ${Math.round(refused.ms)} ms, local_fallback in ${Math.round(counted.ms)} ms (timeout_ms ${REDIS_TIMEOUT_MS})`,
      );
      assert.equal(refused.value.status, 503, refused.value.text);
      assert.equal(refused.value.json?.error?.code, 'limit.backend_unavailable');
      assert.ok(refused.ms < REDIS_TIMEOUT_MS + SLACK_MS, `fail_closed answered after ${Math.round(refused.ms)} ms`);
      assert.equal(counted.value.status, 200, counted.value.text);
      // Two Redis uses in a row (limits, then budgets) each give up after timeout_ms on the first request.
      assert.ok(
        counted.ms < 2 * REDIS_TIMEOUT_MS + SLACK_MS,
        `local_fallback answered after ${Math.round(counted.ms)} ms`,
      );
      // The connection is known stuck now: later requests are refused without waiting again.
      const againMs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const again = await timed(chat(closedGw, closedKey));
        againMs.push(Math.round(again.ms));
        assert.equal(again.value.status, 503);
        assert.ok(again.ms < REDIS_TIMEOUT_MS + SLACK_MS, `a later request took ${Math.round(again.ms)} ms`);
        assert.equal((await chat(fallbackGw, fallbackKey)).status, 200);
      }
      t.diagnostic(`frozen Redis: later fail_closed requests answered in ${againMs.join(', ')} ms`);
      assert.equal(await backendUp('redis_limits'), 0, 'the gauge shows the stalled Redis');
      // Hold the freeze long enough that a request waiting for it could not pass the bounds above.
      const left = FREEZE_MS - (performance.now() - frozenAt);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
      assert.equal((await chat(closedGw, closedKey)).status, 503);
    } finally {
      redisProxy.release();
    }
    await until(
      'fail_closed serves again after the release',
      async () => (await chat(closedGw, closedKey)).status === 200,
    );
    assert.equal(await backendUp('redis_limits'), 1);
    assert.equal((await chat(fallbackGw, fallbackKey)).status, 200);
    assert.match(closedGw.output(), /"event":"limits\.redis_stalled"/);
    assert.match(closedGw.output(), /"event":"limits\.redis_stall_ended"/);
    assert.match(fallbackGw.output(), /"event":"limits\.fallback_started"/);
  });

  test('frozen PostgreSQL: /readyz 503 within a second, requests 503 store.unavailable within 5 s for the whole outage; recovery without restart', {
    timeout: 120_000,
  }, async (t) => {
    // Keys never used before the outage: verifying them needs the store.
    const keys = await Promise.all([1, 2, 3].map((i) => closedGw.createKey({ label: `unused-${i}` })));
    assert.equal((await rawRequest(`${closedGw.url}/readyz`, { method: 'GET' })).status, 200);

    pgProxy.freeze();
    try {
      const frozenAt = performance.now();
      // In flight when the database froze: the request waits on its query until the liveness probe gives up.
      const first = await timed(chat(closedGw, keys[0]!));
      t.diagnostic(`frozen PostgreSQL: the first request needing the store answered in ${Math.round(first.ms)} ms`);
      assert.equal(first.value.status, 503, first.value.text);
      assert.equal(first.value.json?.error?.code, 'store.unavailable');
      assert.ok(first.ms < STORE_BOUND_MS + SLACK_MS, `the first request answered after ${Math.round(first.ms)} ms`);

      // The other gateway has not noticed the outage yet: its readiness probe must answer in time by itself.
      const ready = await timed(rawRequest(`${fallbackGw.url}/readyz`, { method: 'GET' }));
      t.diagnostic(`frozen PostgreSQL: /readyz (outage not yet noticed) answered 503 in ${Math.round(ready.ms)} ms`);
      assert.equal(ready.value.status, 503);
      assert.equal(ready.value.json?.status, 'not_ready');
      assert.ok(ready.ms < 1_000 + SLACK_MS, `/readyz answered after ${Math.round(ready.ms)} ms`);

      // Past the bound into the outage: the wait does not grow.
      await new Promise((r) =>
        setTimeout(r, Math.max(STORE_BOUND_MS + 1_000, FREEZE_MS - (performance.now() - frozenAt))),
      );
      const later = await timed(chat(closedGw, keys[1]!));
      t.diagnostic(
        `frozen PostgreSQL: a request ${Math.round((performance.now() - frozenAt) / 1000)} s into the outage answered in ${Math.round(later.ms)} ms`,
      );
      assert.equal(later.value.status, 503, later.value.text);
      assert.equal(later.value.json?.error?.code, 'store.unavailable');
      assert.ok(later.ms < STORE_BOUND_MS + SLACK_MS, `a later request answered after ${Math.round(later.ms)} ms`);
      const readyLater = await timed(rawRequest(`${closedGw.url}/readyz`, { method: 'GET' }));
      assert.equal(readyLater.value.status, 503);
      assert.ok(readyLater.ms < 1_000 + SLACK_MS, `/readyz answered after ${Math.round(readyLater.ms)} ms`);
      t.diagnostic(`frozen PostgreSQL: /readyz later in the outage answered in ${Math.round(readyLater.ms)} ms`);
      assert.equal(closedGw.proc.exitCode, null, 'the gateway keeps running');
      assert.equal(await backendUp('postgres'), 0, 'the gauge shows the unreachable database');
    } finally {
      pgProxy.release();
    }
    for (const gw of [closedGw, fallbackGw]) {
      await until(
        'ready again after the release',
        async () => (await rawRequest(`${gw.url}/readyz`, { method: 'GET' })).status === 200,
      );
    }
    assert.equal((await chat(closedGw, keys[2]!)).status, 200);
    assert.equal(await backendUp('postgres'), 1);
    assert.equal((await chat(closedGw, keys[0]!)).status, 200);
    assert.match(closedGw.output(), /"event":"store\.unreachable"/);
    assert.match(closedGw.output(), /"event":"store\.reachable"/);
  });
});
