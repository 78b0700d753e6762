/**
 * What the Redis-backed counters (rate limits, budgets) share: Lua scripts with a variable
 * number of keys, a client that never queues while disconnected and times every command out
 * (so an outage fails an operation at once instead of hanging requests), one warning per
 * outage, and error descriptions that never carry the URL (it may hold a password).
 */
import { defineScript } from 'redis';
import type { Logger } from '../../observability/logger.ts';

type Args = readonly string[];

/** A script that pushes its own key count (the scripts take a variable number of keys). */
export function keyedScript(source: string) {
  return defineScript({
    SCRIPT: source,
    parseCommand(parser, keys: Args, args: Args) {
      parser.pushKeysLength([...keys]);
      parser.push(...args);
    },
    transformReply: (reply: unknown) => reply as never,
  });
}

export interface ScriptedClientOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Names the user in messages and events: `limits` → `limits.redis_unavailable`. */
  readonly purpose: string;
}

/** Checks the options (throws a plain Error naming the problem, never the URL). */
export function assertRedisOptions(opts: ScriptedClientOptions): void {
  let parsed: URL;
  try {
    parsed = new URL(opts.url);
  } catch {
    throw new Error(`the Redis URL for ${opts.purpose} is not a valid URL`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new Error(`the Redis URL for ${opts.purpose} must start with redis:// or rediss://`);
  if (!(Number.isSafeInteger(opts.timeoutMs) && opts.timeoutMs >= 1)) throw new Error(`Redis ${opts.purpose}: timeoutMs must be a positive integer`);
}

/** The client options every scripted backend uses. */
export function scriptedClientOptions<S>(opts: ScriptedClientOptions, scripts: S) {
  return {
    url: opts.url,
    scripts,
    disableOfflineQueue: true,
    commandOptions: { timeout: opts.timeoutMs },
    socket: {
      connectTimeout: opts.timeoutMs,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2000),
    },
  };
}

/** Logs one warning per outage and one line when Redis is back. */
/** The part of a client the health watch needs (any scripts type). */
interface EventSource {
  on(event: 'error', listener: (err: unknown) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

export function watchRedisHealth(client: EventSource, opts: ScriptedClientOptions): void {
  let down = false;
  client.on('error', (err: unknown) => {
    if (down) return;
    down = true;
    opts.log.warn({ event: `${opts.purpose}.redis_unavailable`, reason: describeRedisError(err) }, `Redis for ${opts.purpose} is unreachable`);
  });
  client.on('ready', () => {
    if (down) opts.log.info({ event: `${opts.purpose}.redis_recovered` }, `Redis for ${opts.purpose} is reachable again`);
    down = false;
  });
}

export function describeRedisError(err: unknown): string {
  if (!(err instanceof Error)) return 'unknown error';
  const code = (err as NodeJS.ErrnoException).code;
  // Messages from the client may include the address; never the URL's password.
  return code ? `${err.name} ${code}` : `${err.name}: ${err.message.slice(0, 200)}`;
}

/** For KEYS/SCAN patterns built from a prefix. */
export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

/** The part of a node-redis client the lifecycle below needs (any scripts type). */
interface LifecycleClient {
  connect(): Promise<unknown>;
  readonly isReady: boolean;
  close(): Promise<unknown>;
  destroy(): unknown;
  scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
  del(keys: string[]): Promise<number>;
}

export interface ScriptedLifecycle {
  /** Runs one command, turning any failure (and use after close) into `fail(message)`. */
  run<T>(what: string, fn: () => Promise<T>): Promise<T>;
  /** Resolves once connected (tests); requests never wait for it. */
  ready(): Promise<void>;
  /** Deletes every key under the prefix (tests clean up with it). */
  deleteAllKeys(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Connects a scripted client and gives the operations every scripted backend shares. `fail`
 * builds the backend's own error (LimitBackendError, BudgetBackendError) so the stages can tell
 * an unreachable backend from a bug.
 */
export function scriptedLifecycle(client: LifecycleClient, keyPrefix: string, label: 'limit' | 'budget', fail: (message: string, cause?: unknown) => Error): ScriptedLifecycle {
  const connecting = client.connect().then(() => undefined, () => undefined);
  let closed = false;
  return {
    async run(what, fn) {
      if (closed) throw fail(`redis ${label} backend is closed`);
      try {
        return await fn();
      } catch (err) {
        throw fail(`Redis ${label} ${what} failed: ${describeRedisError(err)}`, err);
      }
    },
    async ready() {
      await connecting;
      if (!client.isReady) throw fail('Redis is not reachable');
    },
    async deleteAllKeys() {
      let deleted = 0;
      for await (const batch of client.scanIterator({ MATCH: `${escapeGlob(keyPrefix)}*`, COUNT: 500 })) {
        if (batch.length > 0) deleted += await client.del(batch);
      }
      return deleted;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (client.isReady) await client.close().catch(() => client.destroy());
      else client.destroy();
    },
  };
}
