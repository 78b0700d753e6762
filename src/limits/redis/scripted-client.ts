/**
 * What the Redis-backed counters (rate limits, budgets, the shared lockout) share: Lua scripts
 * with a variable number of keys, a client that never queues while disconnected and whose every
 * command has the gateway's own deadline (command-guard.ts: an outage or a frozen Redis fails an
 * operation within `timeout_ms` instead of hanging requests), one warning per outage, and error
 * descriptions that never carry the URL (it may hold a password).
 */
import type { RedisScripts } from 'redis';
import type { Logger } from '../../observability/logger.ts';
import { type CommandGuard, createCommandGuard, type GuardableClient } from './command-guard.ts';
import { defineScript, redisModule } from './redis-module.ts';

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
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new Error(`the Redis URL for ${opts.purpose} must start with redis:// or rediss://`);
  if (!(Number.isSafeInteger(opts.timeoutMs) && opts.timeoutMs >= 1))
    throw new Error(`Redis ${opts.purpose}: timeoutMs must be a positive integer`);
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

/** The part of a client the health watch needs (any scripts type). */
interface EventSource {
  on(event: 'error', listener: (err: unknown) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

/**
 * Logs one warning per outage and one line when Redis is back. The returned function attaches
 * the watch to a client; the state is shared, so a replaced connection does not log again.
 */
export function redisHealthWatch(opts: ScriptedClientOptions): (client: EventSource) => void {
  let down = false;
  return (client) => {
    client.on('error', (err: unknown) => {
      if (down) return;
      down = true;
      opts.log.warn(
        { event: `${opts.purpose}.redis_unavailable`, reason: describeRedisError(err) },
        `Redis for ${opts.purpose} is unreachable`,
      );
    });
    client.on('ready', () => {
      if (down)
        opts.log.info({ event: `${opts.purpose}.redis_recovered` }, `Redis for ${opts.purpose} is reachable again`);
      down = false;
    });
  };
}

/** A scripted client behind the gateway's own command deadline, its connections health-watched. */
export function guardedScriptedClient<S extends RedisScripts>(opts: ScriptedClientOptions, scripts: S, name?: string) {
  const watch = redisHealthWatch(opts);
  return createCommandGuard({
    create: () => {
      const c = redisModule().createClient({
        ...scriptedClientOptions(opts, scripts),
        ...(name === undefined ? {} : { name }),
      });
      watch(c);
      return c;
    },
    timeoutMs: opts.timeoutMs,
    log: opts.log,
    purpose: opts.purpose,
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
interface LifecycleClient extends GuardableClient {
  scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
  del(keys: string[]): Promise<number>;
}

export interface ScriptedLifecycle<C> {
  /** Runs one command within the deadline, turning any failure (and use after close) into `fail(message)`. */
  run<T>(what: string, fn: (client: C) => Promise<T>): Promise<T>;
  /** Resolves once connected (tests); requests never wait for it. */
  ready(): Promise<void>;
  /** Deletes every key under the prefix (tests clean up with it). */
  deleteAllKeys(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The operations every scripted backend shares, over a guarded client. `fail` builds the
 * backend's own error (LimitBackendError, BudgetBackendError) so the stages can tell an
 * unreachable backend from a bug.
 */
export function scriptedLifecycle<C extends LifecycleClient>(
  guard: CommandGuard<C>,
  keyPrefix: string,
  label: 'limit' | 'budget',
  fail: (message: string, cause?: unknown) => Error,
): ScriptedLifecycle<C> {
  return {
    async run(what, fn) {
      try {
        return await guard.run(fn);
      } catch (err) {
        throw fail(`Redis ${label} ${what} failed: ${describeRedisError(err)}`, err);
      }
    },
    async ready() {
      try {
        await guard.connected();
      } catch {
        throw fail('Redis is not reachable');
      }
    },
    async deleteAllKeys() {
      const client = guard.current();
      let deleted = 0;
      for await (const batch of client.scanIterator({ MATCH: `${escapeGlob(keyPrefix)}*`, COUNT: 500 })) {
        if (batch.length > 0) deleted += await client.del(batch);
      }
      return deleted;
    },
    close: () => guard.close(),
  };
}
