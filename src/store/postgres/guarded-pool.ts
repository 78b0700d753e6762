/**
 * A `pg` pool behind the gateway's own deadlines. The server's statement_timeout cannot fire
 * across a network partition (or from a frozen server), and `pg` waits for an answer forever
 * once a query is sent, so without this a frozen database holds every query, every connection
 * of the pool, and so every later request, for the whole outage.
 *
 * - Acquiring a connection waits at most `acquireTimeoutMs` (the pool's connection timeout).
 * - A query waits at most `queryTimeoutMs` (the statement timeout plus a grace second, so a
 *   reachable server always cancels first); a query that misses it has its connection destroyed.
 * - Liveness: whenever a query or an acquisition has waited `suspectAfterMs`, a `SELECT 1` on a
 *   separate probe connection must answer within `probeTimeoutMs`. If it does not, the database
 *   counts as unreachable: every waiting query and acquisition fails at once (their connections
 *   destroyed, so the pool never fills with stuck ones) and so does every new one, while the
 *   probe is retried every half second; the first answer ends the outage. So during an outage a
 *   request waits at most about suspectAfterMs + probeTimeoutMs, then nothing: the bound does not
 *   grow with the outage, and recovery needs no restart.
 * - `ping()` (readiness) is that probe: it answers within `probeTimeoutMs`.
 *
 * Failures are StoreUnavailableError (callers answer `503 store.unavailable`).
 */
import type { Socket } from 'node:net';
import type pg from 'pg';
import { StoreUnavailableError } from '../errors.ts';
import { reasonOf } from './connection.ts';
import { pgModule } from './pg-module.ts';

export const PROBE_TIMEOUT_MS = 750;
export const SUSPECT_AFTER_MS = 1_000;
const PROBE_RETRY_MS = 500;

export interface StoreQueryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** A connection taken from the pool for a transaction; release it exactly once. */
export interface StoreClient extends StoreQueryable {
  /** Back to the pool; with an error (or after a missed deadline) the connection is destroyed instead. */
  release(err?: Error | boolean): void;
}

export interface StorePool extends StoreQueryable {
  /** A connection for a transaction; `queryTimeoutMs` overrides the per-query deadline (migrations). */
  connect(opts?: { queryTimeoutMs?: number }): Promise<StoreClient>;
  /** Resolves within the probe timeout when the database answers; rejects with StoreUnavailableError otherwise. */
  ping(): Promise<void>;
  /** False while the database counts as unreachable. */
  reachable(): boolean;
  end(): Promise<void>;
}

export interface GuardedPoolOptions {
  readonly pool: pg.Pool;
  /** For the probe connection (same database as the pool). */
  readonly url: string;
  readonly applicationName: string;
  readonly acquireTimeoutMs: number;
  readonly queryTimeoutMs: number;
  readonly probeTimeoutMs?: number;
  readonly suspectAfterMs?: number;
  /** Called once when an outage starts (the reason never holds the URL). */
  readonly onUnreachable?: (reason: string) => void;
  /** Called once when it ends. */
  readonly onReachable?: () => void;
}

interface Waiter {
  fail(err: Error): void;
}

/** Destroys the socket of a pg client whose end() was called: a graceful end would wait on a frozen link. */
function destroySocket(client: pg.ClientBase): void {
  (client as unknown as { connection?: { stream?: Socket } }).connection?.stream?.destroy();
}

export function createGuardedPool(opts: GuardedPoolOptions): StorePool {
  const { pool, acquireTimeoutMs, queryTimeoutMs } = opts;
  const probeTimeoutMs = opts.probeTimeoutMs ?? PROBE_TIMEOUT_MS;
  const suspectAfterMs = opts.suspectAfterMs ?? SUSPECT_AFTER_MS;
  const waiting = new Set<Waiter>();
  let unreachable: string | undefined;
  let ended = false;
  let probeClient: pg.Client | undefined;
  let probing: Promise<string | undefined> | undefined;
  let recovering: Promise<void> | undefined;

  const unavailable = (): StoreUnavailableError =>
    new StoreUnavailableError(`PostgreSQL is not answering (${unreachable ?? 'closed'})`);

  /** One SELECT 1 on the probe connection within probeTimeoutMs; resolves with why it failed, or undefined. */
  function probe(): Promise<string | undefined> {
    probing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      // The verdict waits one pass of I/O after the timer: an answer that arrived while this
      // process was starved of CPU still counts (timers run before I/O callbacks).
      const late = new Promise<string>((r) => {
        timer = setTimeout(
          () => setImmediate(() => r(`no answer to a probe within ${probeTimeoutMs} ms`)),
          probeTimeoutMs,
        );
      });
      const asked = (async () => {
        if (probeClient === undefined) {
          const c = new (pgModule().Client)({
            connectionString: opts.url,
            connectionTimeoutMillis: probeTimeoutMs,
            application_name: opts.applicationName,
          });
          c.on('error', () => {
            if (probeClient === c) probeClient = undefined;
          });
          probeClient = c;
          await c.connect();
        }
        await probeClient.query('SELECT 1');
        return undefined;
      })().catch((err: unknown) => `the probe failed: ${reasonOf(err)}`);
      const reason = await Promise.race([asked, late]);
      clearTimeout(timer);
      if (reason !== undefined && probeClient !== undefined) {
        const c = probeClient;
        probeClient = undefined;
        c.end().catch(() => undefined);
        destroySocket(c);
      }
      return reason;
    })().finally(() => {
      probing = undefined;
    });
    return probing;
  }

  function markUnreachable(reason: string): void {
    if (unreachable !== undefined || ended) return;
    unreachable = reason;
    opts.onUnreachable?.(reason);
    const err = unavailable();
    for (const w of [...waiting]) w.fail(err);
    recovering ??= (async () => {
      while (unreachable !== undefined && !ended) {
        await new Promise((r) => setTimeout(r, PROBE_RETRY_MS));
        if (ended) return;
        if ((await probe()) === undefined) {
          unreachable = undefined;
          opts.onReachable?.();
        }
      }
    })().finally(() => {
      recovering = undefined;
    });
  }

  /** Something has waited long: ask the database directly whether it still answers. */
  function suspect(): void {
    if (unreachable !== undefined || ended) return;
    void probe().then((reason) => {
      if (reason !== undefined) markUnreachable(reason);
    });
  }

  /** Runs `start` as one waiter with a deadline and a liveness check; `onLate` cleans up what it left behind. */
  function guarded<T>(
    deadlineMs: number,
    what: string,
    start: () => Promise<T>,
    onFail: () => void,
    onLate: (v: T) => void,
  ): Promise<T> {
    if (ended) return Promise.reject(new StoreUnavailableError('the PostgreSQL pool is closed'));
    if (unreachable !== undefined) return Promise.reject(unavailable());
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const waiter: Waiter = {
        fail(err) {
          if (settled) return;
          settled = true;
          done();
          onFail();
          reject(err);
        },
      };
      // As for the probe: one pass of I/O after the timer before the verdict.
      const deadline = setTimeout(
        () =>
          setImmediate(() => {
            if (settled) return;
            waiter.fail(new StoreUnavailableError(`no answer from PostgreSQL to ${what} within ${deadlineMs} ms`));
            suspect();
          }),
        deadlineMs,
      );
      const suspicion = setTimeout(suspect, Math.min(suspectAfterMs, deadlineMs));
      const done = (): void => {
        clearTimeout(deadline);
        clearTimeout(suspicion);
        waiting.delete(waiter);
      };
      waiting.add(waiter);
      start().then(
        (v) => {
          if (settled) return onLate(v);
          settled = true;
          done();
          resolve(v);
        },
        (err: unknown) => {
          if (settled) return;
          settled = true;
          done();
          reject(err);
        },
      );
    });
  }

  function acquire(): Promise<pg.PoolClient> {
    return guarded(
      acquireTimeoutMs,
      'a connection request',
      () => pool.connect(),
      () => undefined,
      (late) => late.release(),
    );
  }

  function wrap(client: pg.PoolClient, timeoutMs: number): StoreClient {
    let released = false;
    // While a connection is checked out the pool takes its own 'error' listener off (it puts it
    // back on release), and `pg` emits 'error' when the connection is cut: with no listener that
    // is an uncaught exception, so an outage that cut a connection in use (a transaction between
    // two queries, a query in flight) would take the whole process down. The query in flight
    // fails with the same error on its own; this one only remembers the cut.
    let cut: Error | undefined;
    const onError = (err: Error): void => {
      cut ??= err;
      suspect();
    };
    client.on('error', onError);
    const broken = (): StoreUnavailableError =>
      new StoreUnavailableError(`the PostgreSQL connection was cut (${reasonOf(cut)})`, { cause: cut });
    const drop = (err: Error | boolean | undefined): void => {
      if (released) return;
      released = true;
      client.removeListener('error', onError);
      // With an error the pool ends the connection, destroying its socket when a query is still
      // waiting (a graceful end would wait on a frozen link); ended by us, it emits no 'error'.
      client.release(err === undefined || err === false ? cut : err);
    };
    return {
      query(sql, params) {
        if (released)
          return Promise.reject(
            new StoreUnavailableError('this PostgreSQL connection was dropped after a missed deadline'),
          );
        if (cut !== undefined) {
          const err = broken();
          drop(err);
          return Promise.reject(err);
        }
        return guarded(
          timeoutMs,
          'a query',
          () => client.query(sql, params),
          () => drop(new Error('no answer within the deadline')),
          () => undefined,
        ).catch((err: unknown) => {
          // The connection was cut under this query: the database is unavailable, not the query wrong.
          const failure = cut !== undefined && !(err instanceof StoreUnavailableError) ? broken() : err;
          // Refused at once during an outage: the connection may hold an open transaction
          // whose ROLLBACK will be refused too, so it must not go back to the pool.
          if (failure instanceof StoreUnavailableError) drop(failure);
          throw failure;
        });
      },
      release: drop,
    };
  }

  return {
    async query(sql, params) {
      const c = wrap(await acquire(), queryTimeoutMs);
      try {
        return await c.query(sql, params);
      } finally {
        c.release();
      }
    },
    async connect(o) {
      return wrap(await acquire(), o?.queryTimeoutMs ?? queryTimeoutMs);
    },
    async ping() {
      if (ended) throw new StoreUnavailableError('the PostgreSQL pool is closed');
      if (unreachable !== undefined) throw unavailable();
      const reason = await probe();
      if (reason === undefined) return;
      markUnreachable(reason);
      throw unavailable();
    },
    reachable: () => unreachable === undefined && !ended,
    async end() {
      if (ended) return;
      ended = true;
      const err = new StoreUnavailableError('the PostgreSQL pool is closed');
      for (const w of [...waiting]) w.fail(err);
      await Promise.allSettled([probing, recovering]);
      if (probeClient !== undefined) {
        const c = probeClient;
        probeClient = undefined;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          c.end().catch(() => undefined),
          new Promise((r) => {
            timer = setTimeout(r, probeTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
        destroySocket(c);
      }
      await pool.end();
    },
  };
}
