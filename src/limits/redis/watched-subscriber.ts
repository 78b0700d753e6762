/**
 * A Redis pub/sub subscriber that knows when it may be missing messages. A subscriber whose
 * connection is cut is easy to notice (node-redis reports it); one whose Redis froze, or whose
 * network dropped packets without closing anything, looks subscribed forever. So every second
 * the subscriber sends a PING that must be answered within `timeoutMs`; a missed answer (like a
 * subscription that does not complete in time) marks it down, drops the connection and opens a
 * new one, which subscribes again as soon as Redis answers. Used by the key revocation feed and
 * the shared lockout (their own logs say what being down means for them).
 */
import type { Logger } from '../../observability/logger.ts';
import type { RedisLimitsConfig } from '../config-types.ts';
import { RedisUnavailableError, withDeadline } from './command-guard.ts';
import { redisModule } from './redis-module.ts';
import { describeRedisError } from './scripted-client.ts';

export const SUBSCRIBER_PING_INTERVAL_MS = 1000;
const RETRY_MS = 100;

export interface WatchedSubscriberOptions {
  readonly redis: Pick<RedisLimitsConfig, 'url' | 'timeoutMs'>;
  /** Channel → listener; every one is subscribed on every (new) connection. */
  readonly channels: ReadonlyArray<readonly [string, (message: string) => void]>;
  /** CLIENT SETNAME of the connection (tests find and kill it by name). */
  readonly name?: string;
  readonly log: Logger;
  /** For debug events: `keys` → `keys.subscribe_failed`. */
  readonly purpose: string;
  /** Subscribed (again): messages arrive from now on. */
  readonly onUp: () => void;
  /** Messages may be missed from now on (called on every sign of trouble; dedupe in the caller). */
  readonly onDown: (reason: string) => void;
}

export interface WatchedSubscriber {
  isSubscribed(): boolean;
  close(): Promise<void>;
}

export function createWatchedSubscriber(opts: WatchedSubscriberOptions): WatchedSubscriber {
  const { redis, log } = opts;
  const reopenAfterMs = Math.max(5_000, 4 * redis.timeoutMs);
  let subscribed = false;
  let closed = false;
  let openedAt = 0;
  let wake: (() => void) | undefined;

  const down = (reason: string): void => {
    if (closed) return;
    subscribed = false;
    opts.onDown(reason);
  };

  const open = () => {
    const c = redisModule().createClient({
      url: redis.url,
      ...(opts.name === undefined ? {} : { name: opts.name }),
      disableOfflineQueue: true,
      socket: {
        connectTimeout: redis.timeoutMs,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2000),
      },
    });
    // The URL may hold a password: only the error's name/code is reported.
    c.on('error', (err: unknown) => down(describeRedisError(err)));
    c.on('end', () => down('connection closed'));
    c.on('reconnecting', () => down('reconnecting'));
    openedAt = Date.now();
    c.connect().catch(() => undefined);
    return c;
  };
  let client = open();

  const replace = (): void => {
    const old = client;
    client = open();
    old.removeAllListeners();
    old.on('error', () => undefined);
    old.destroy();
  };

  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const timer = setTimeout(() => {
        wake = undefined;
        r();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        r();
      };
    });

  const watching = (async () => {
    while (!closed) {
      if (!subscribed) {
        if (client.isReady) {
          try {
            // node-redis resubscribes by itself before it is ready again; this makes sure of every channel.
            for (const [channel, listener] of opts.channels)
              await withDeadline(client.subscribe(channel, listener), redis.timeoutMs, 'SUBSCRIBE');
            if (closed) break;
            subscribed = true;
            opts.onUp();
          } catch (err) {
            log.debug(
              { event: `${opts.purpose}.subscribe_failed`, reason: describeRedisError(err) },
              'retrying the subscription',
            );
            if (err instanceof RedisUnavailableError) replace();
          }
        } else if (Date.now() - openedAt > reopenAfterMs) {
          replace();
        }
        await sleep(RETRY_MS);
        continue;
      }
      await sleep(SUBSCRIBER_PING_INTERVAL_MS);
      if (closed || !subscribed) continue;
      const c = client;
      try {
        await withDeadline(c.sendCommand(['PING']), redis.timeoutMs, 'PING');
      } catch (err) {
        if (c !== client) continue;
        down(
          err instanceof RedisUnavailableError
            ? `no answer to a PING within ${redis.timeoutMs} ms`
            : describeRedisError(err),
        );
        if (err instanceof RedisUnavailableError) replace();
      }
    }
  })();

  return {
    isSubscribed: () => subscribed && !closed,
    async close() {
      if (closed) return;
      closed = true;
      subscribed = false;
      wake?.();
      await watching;
      const c = client;
      c.removeAllListeners();
      c.on('error', () => undefined);
      if (c.isReady) await withDeadline(c.close(), redis.timeoutMs, 'QUIT').catch(() => c.destroy());
      else c.destroy();
    },
  };
}
