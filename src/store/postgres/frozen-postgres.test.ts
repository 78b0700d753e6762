/**
 * The PostgreSQL store against a frozen database: the real server behind a TCP proxy that stops
 * forwarding without closing anything (a partition, a frozen server). The server's
 * statement_timeout cannot fire across it; the store's own deadlines (guarded-pool.ts) must:
 * the readiness ping answers within its probe timeout, queries and transactions (more of them
 * than the pool has connections) fail within the documented 5 s, later ones do not wait longer
 * the longer the outage lasts, and everything works again after the release without a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTcpProxy, type TcpProxy } from '../../../test/helpers/tcp-proxy.ts';
import { sampleApiKeyRecord } from '../contract-fixtures.ts';
import { StoreUnavailableError } from '../errors.ts';
import type { Store } from '../store.ts';
import { createPostgresStore } from './postgres-store.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

/** The documented bound for a request that needs the store (README "Scale-out"). */
const REQUEST_BOUND_MS = 5_000;

let db: TestDatabase | undefined;
let proxy: TcpProxy;
let store: Store;
const events: Array<[boolean, string | undefined]> = [];

before(async () => {
  db = await createTestDatabase('portcullis_test_frozen');
  const target = new URL(db.url);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const via = new URL(db.url);
  via.host = `127.0.0.1:${proxy.port}`;
  store = createPostgresStore({
    url: via.toString(),
    poolSize: 2,
    batchWindowMs: 0,
    onReachability: (up, reason) => events.push([up, reason]),
  });
  await store.init();
});
after(async () => {
  proxy?.release();
  await store?.close();
  await proxy?.close();
  await db?.drop();
});

/** How `p` settled and after how long; 'pending' if it took more than `boundMs`. */
async function timed<T>(
  p: Promise<T>,
  boundMs: number,
): Promise<{ ms: number; value?: T; error?: unknown; pending?: true }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ pending: true }>((r) => {
    timer = setTimeout(() => r({ pending: true }), boundMs);
  });
  try {
    const r = await Promise.race([
      p.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      late,
    ]);
    return { ...r, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

async function until(what: string, ok: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a frozen PostgreSQL', () => {
  it('ping, queries and transactions fail within the bound for the whole outage, and all recover after the release', async () => {
    await store.insertApiKey(sampleApiKeyRecord({ id: 'k-frozen', hash: 'h-frozen' }));
    assert.equal((await store.findApiKeyByHash('h-frozen'))?.id, 'k-frozen');
    await store.ping();

    proxy.freeze();
    try {
      // More work than the pool has connections: lookups (pool.query) and a transaction (pool.connect).
      const first = await Promise.all([
        ...Array.from({ length: 6 }, () => timed(store.findApiKeyByHash('h-frozen'), REQUEST_BOUND_MS + 2_000)),
        timed(
          store.rotateApiKey({
            oldId: 'nope',
            oldExpiresAt: new Date().toISOString(),
            replacement: sampleApiKeyRecord({ id: 'k2', hash: 'h2' }),
          }),
          REQUEST_BOUND_MS + 2_000,
        ),
      ]);
      for (const r of first) {
        assert.ok(!r.pending, 'a store call waited for the freeze');
        assert.ok(r.error instanceof Error, 'a store call succeeded through a frozen link');
        assert.ok(r.ms < REQUEST_BOUND_MS + 1_000, `a store call took ${Math.round(r.ms)} ms`);
      }
      assert.ok(
        events.some(([up]) => !up),
        'the outage was reported',
      );

      // Readiness answers well within a second, without waiting for a connection or a query.
      const ping = await timed(store.ping(), 5_000);
      assert.ok(ping.error instanceof StoreUnavailableError, String(ping.error ?? 'ping succeeded'));
      assert.ok(ping.ms < 1_000, `readiness took ${Math.round(ping.ms)} ms`);

      // Longer than the bound into the outage: waits do not grow (a stuck pool fails at once).
      await new Promise((r) => setTimeout(r, REQUEST_BOUND_MS + 500));
      const later = await Promise.all(
        Array.from({ length: 6 }, () => timed(store.findApiKeyByHash('h-frozen'), REQUEST_BOUND_MS + 2_000)),
      );
      for (const r of later) {
        assert.ok(!r.pending && r.error instanceof Error, 'a store call waited for the freeze');
        assert.ok(r.ms < REQUEST_BOUND_MS, `a store call took ${Math.round(r.ms)} ms`);
      }
    } finally {
      proxy.release();
    }

    await until(
      'queries work again after the release',
      async () =>
        await store.findApiKeyByHash('h-frozen').then(
          (k) => k?.id === 'k-frozen',
          () => false,
        ),
    );
    await store.ping();
    assert.equal(
      await store.rotateApiKey({
        oldId: 'nope',
        oldExpiresAt: new Date().toISOString(),
        replacement: sampleApiKeyRecord({ id: 'k3', hash: 'h3' }),
      }),
      false,
    );
    assert.deepEqual(events.at(-1), [true, undefined], 'the end of the outage was reported');
  });
});
