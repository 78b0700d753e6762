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
