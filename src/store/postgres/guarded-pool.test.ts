/**
 * The guarded pool's edges against a real PostgreSQL behind a freezable TCP proxy: a
 * transaction cut by an outage never goes back to the pool with its transaction open, a
 * connection cut while in use fails as unavailable instead of crashing the process, and
 * closing the pool during a freeze does not wait for the freeze.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTcpProxy, type TcpProxy } from '../../../test/helpers/tcp-proxy.ts';
import { StoreUnavailableError } from '../errors.ts';
import { createGuardedPool, type StorePool } from './guarded-pool.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

let db: TestDatabase | undefined;
let proxy: TcpProxy;
let url: string;

before(async () => {
  db = await createTestDatabase('portcullis_test_guard');
  const target = new URL(db.url);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const via = new URL(db.url);
  via.host = `127.0.0.1:${proxy.port}`;
  url = via.toString();
});
after(async () => {
  proxy?.release();
  await proxy?.close();
  await db?.drop();
});

function guardedPool(max: number): StorePool {
  const raw = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000 });
  raw.on('error', () => undefined);
  return createGuardedPool({
    pool: raw,
    url,
    applicationName: 'guard-test',
    acquireTimeoutMs: 5_000,
    queryTimeoutMs: 16_000,
  });
}

async function until(what: string, ok: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the pool serves a query again (after an outage ended). */
async function answersAgain(pool: StorePool): Promise<void> {
  await until(
    'the pool answers again',
    async () =>
      await pool.query('SELECT 1').then(
        () => true,
        () => false,
      ),
  );
}

describe('guarded PostgreSQL pool', () => {
  it('a transaction cut by an outage is destroyed, never handed to the next caller with its transaction open', async () => {
    const pool = guardedPool(2);
    try {
      const tx = await pool.connect();
      await tx.query('BEGIN');
      await tx.query('SELECT 1');
      proxy.freeze();
      try {
        // Another caller waits on the frozen link until the probe declares the outage.
        await assert.rejects(pool.query('SELECT 2'), StoreUnavailableError);
        assert.equal(pool.reachable(), false);
        await assert.rejects(tx.query('SELECT 3'), StoreUnavailableError);
        await assert.rejects(tx.query('ROLLBACK'), StoreUnavailableError);
        tx.release();
      } finally {
        proxy.release();
      }
      await answersAgain(pool);
      // As many at once as the pool has connections, so every pooled connection is used.
      for (let i = 0; i < 3; i++) {
        const rows = await Promise.all(
          [1, 2].map(
            async () =>
              (
                await pool.query<{ in_old_tx: boolean }>(
                  'SELECT xact_start < statement_timestamp() AS in_old_tx, pg_sleep(0.05) FROM pg_stat_activity WHERE pid = pg_backend_pid()',
                )
              ).rows[0],
          ),
        );
        for (const r of rows) assert.equal(r?.in_old_tx, false, 'a query ran inside the transaction the outage cut');
      }
    } finally {
      await pool.end();
    }
  });

  it('a connection cut while checked out (between queries, or under one) fails as unavailable and never takes the process down', async () => {
    // `pg` emits 'error' on a checked-out connection that is cut; with nobody listening that is
    // an uncaught exception, which node:test reports as a failure of this test.
    const pool = guardedPool(2);
    try {
      const idle = await pool.connect();
      await idle.query('BEGIN');
      const busy = await pool.connect();
      const inFlight = busy.query('SELECT pg_sleep(5)');
      await new Promise((r) => setTimeout(r, 100));
      await proxy.close();
      try {
        await assert.rejects(inFlight, (err: unknown) => {
          assert.ok(err instanceof StoreUnavailableError, String(err));
          assert.match(err.message, /connection was cut/);
          return true;
        });
        await new Promise((r) => setTimeout(r, 100));
        await assert.rejects(idle.query('SELECT 1'), StoreUnavailableError);
        idle.release();
        busy.release();
        await assert.rejects(pool.query('SELECT 1'), StoreUnavailableError);
      } finally {
        await proxy.reopen();
      }
      await answersAgain(pool);
      const tx = await pool.connect();
      assert.equal((await tx.query<{ n: number }>('SELECT 7 AS n')).rows[0]?.n, 7);
      tx.release();
    } finally {
      await pool.end();
    }
  });

  it('closing during a freeze fails what waits and returns without waiting for the release', async () => {
    const pool = guardedPool(1);
    await pool.query('SELECT 1');
    proxy.freeze();
    try {
      const waiting = pool.query('SELECT pg_sleep(0)');
      await new Promise((r) => setTimeout(r, 200));
      const closing = pool.end();
      const outcome = await Promise.race([
        closing.then(() => 'closed'),
        new Promise((r) => setTimeout(() => r('still closing after 10 s'), 10_000)),
      ]);
      assert.equal(outcome, 'closed');
      await assert.rejects(waiting, StoreUnavailableError);
      await assert.rejects(pool.query('SELECT 1'), /closed/);
    } finally {
      proxy.release();
    }
  });
});
