/**
 * The gateway's own deadline on every Redis command. node-redis drops a command's timeout once
 * the command is written to the socket, so a Redis that stops answering without closing the
 * connection (a frozen process, a network partition, a proxy that hangs) would hold every
 * caller for the whole freeze. Here:
 *
 * - every command settles within `timeoutMs`: a late answer counts as Redis being unreachable;
 * - the first command that misses its deadline marks the connection stalled: it is dropped and a
 *   new one opened, and until that new connection has answered a PING within the deadline every
 *   command fails at once, so a stuck connection never collects a queue of waiting commands;
 * - at most `maxInFlight` commands wait for answers at any time; more fail at once;
 * - recovery needs no restart: the new connection is tried again (each probe within the deadline)
 *   until Redis answers, then commands flow again.
 *
 * One warning when a stall starts (`<purpose>.redis_stalled`), one line when it ends
 * (`<purpose>.redis_stall_ended`). Messages never carry the URL (it may hold a password).
 */
import type { Logger } from '../../observability/logger.ts';

export const DEFAULT_MAX_IN_FLIGHT = 4096;

/** Redis did not answer (in time, or at all). The backends map it to their own error. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/** The part of a node-redis client the guard needs (any scripts or modules). */
export interface GuardableClient {
  connect(): Promise<unknown>;
  readonly isReady: boolean;
  ping(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): unknown;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  removeAllListeners(): unknown;
}

export interface CommandGuardOptions<C extends GuardableClient> {
  /** Makes a new, unconnected client (called again whenever a stalled connection is replaced). */
  readonly create: () => C;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Names the user in events: `limits` → `limits.redis_stalled`. */
  readonly purpose: string;
  readonly maxInFlight?: number;
}

export interface CommandGuard<C extends GuardableClient> {
  /** Runs one command on the current connection within the deadline; throws RedisUnavailableError otherwise. */
  run<T>(fn: (client: C) => Promise<T>): Promise<T>;
  /** The current connection (tests, cleanup). */
  current(): C;
  /** True while the connection is ready and not known to be stalled. */
  usable(): boolean;
  /** Commands waiting for an answer now. */
  inFlight(): number;
  /** Resolves once the first connection is up (tests); requests never wait for it. */
  connected(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Settles like `p`, or rejects with RedisUnavailableError after `ms`. A late settlement of `p` is
 * ignored. The verdict waits for one pass of I/O after the timer (setImmediate), so an answer
 * that arrived while this process was starved of CPU (a GC pause, a busy host) still counts:
 * timers run before I/O callbacks in Node's event loop.
 */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => setImmediate(() => reject(new RedisUnavailableError(`${what}: no answer from Redis within ${ms} ms`))),
      ms,
    );
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

export function createCommandGuard<C extends GuardableClient>(opts: CommandGuardOptions<C>): CommandGuard<C> {
  const { timeoutMs, log, purpose } = opts;
  const maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  // Probes of a replaced connection: often enough to recover quickly, never more than the deadline allows.
  const probeEveryMs = Math.min(Math.max(timeoutMs, 100), 1000);
  // A replacement that has not even finished connecting after this long is replaced again.
  const reopenAfterMs = Math.max(5_000, 4 * timeoutMs);

  let closed = false;
  let stalled = false;
  let waiting = 0;
  let openedAt = 0;
  let probing: Promise<void> | undefined;
  let connecting: Promise<void> = Promise.resolve();

  const open = (): C => {
    const c = opts.create();
    openedAt = Date.now();
    // connect() settles once connected or given up; nobody waits for it but tests.
    connecting = c.connect().then(
      () => undefined,
      () => undefined,
    );
    return c;
  };
  let client = open();

  const drop = (c: C): void => {
    // Its listeners (health logging) belong to the old connection; an 'error' still needs one.
    c.removeAllListeners();
    c.on('error', () => undefined);
    c.destroy();
  };

  const replace = (): void => {
    const old = client;
    client = open();
    drop(old);
  };

  const probeUntilRecovered = async (): Promise<void> => {
    while (stalled && !closed) {
      await new Promise((r) => setTimeout(r, probeEveryMs));
      if (closed) return;
      if (!client.isReady) {
        if (Date.now() - openedAt > reopenAfterMs) replace();
        continue;
      }
      try {
        await withDeadline(client.ping(), timeoutMs, 'PING');
        stalled = false;
        log.info({ event: `${purpose}.redis_stall_ended` }, `Redis for ${purpose} answers again`);
      } catch {
        replace();
      }
    }
  };

  const stall = (): void => {
    if (stalled || closed) return;
    stalled = true;
    log.warn(
      { event: `${purpose}.redis_stalled`, timeout_ms: timeoutMs },
      `Redis for ${purpose} did not answer within ${timeoutMs} ms; its connection is replaced and commands fail at once until Redis answers again`,
    );
    replace();
    probing = probeUntilRecovered().finally(() => {
      probing = undefined;
    });
  };

  return {
    async run(fn) {
      if (closed) throw new RedisUnavailableError(`the Redis client for ${purpose} is closed`);
      if (stalled) throw new RedisUnavailableError(`Redis for ${purpose} is not answering (waiting for it to recover)`);
      if (waiting >= maxInFlight)
        throw new RedisUnavailableError(
          `${maxInFlight} Redis commands for ${purpose} are already waiting for an answer`,
        );
      waiting++;
      const c = client;
      try {
        return await withDeadline(fn(c), timeoutMs, purpose);
      } catch (err) {
        // Only a deadline proves the connection stuck; a refused or reset connection reconnects by itself.
        if (err instanceof RedisUnavailableError && c === client) stall();
        throw err;
      } finally {
        waiting--;
      }
    },
    current: () => client,
    usable: () => !closed && !stalled && client.isReady,
    inFlight: () => waiting,
    async connected() {
      await connecting;
      if (!client.isReady) throw new RedisUnavailableError(`Redis for ${purpose} is not reachable`);
    },
    async close() {
      if (closed) return;
      closed = true;
      await probing;
      const c = client;
      if (c.isReady) await withDeadline(c.close(), timeoutMs, 'QUIT').catch(() => c.destroy());
      else c.destroy();
    },
  };
}
