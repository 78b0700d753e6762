/**
 * Key revocations broadcast over Redis pub/sub, so a key revoked anywhere (the CLI, the admin
 * API, another instance) is dropped from every instance's key cache at once instead of after
 * the cache TTL. The channel is `<key_prefix>key-revocations`; a message is one key id.
 *
 * Fail safe: a broadcast missed while the subscriber is disconnected would leave a revoked key
 * cached, so while the listener is not subscribed `isSubscribed()` is false and the key verifier
 * bypasses its cache (every request asks the store). A PING every second that must be answered
 * within `redis.timeout_ms` notices a connection that died silently or a Redis that froze
 * (watched-subscriber.ts); the connection is then replaced. Receiving a message only ever
 * evicts, so anyone able to publish on the channel can cost store lookups, never let a key through.
 *
 * Publishing is best effort: the revocation is already in the store, so an instance that
 * misses the broadcast still refuses the key once its cache entry expires (≤ 1 s).
 *
 * The same connection carries tenant shreds on `<key_prefix>tenant-shreds` (a message is one
 * tenant id): every instance then wipes its cached data keys of that tenant at once instead of
 * after the data-key cache TTL (60 s). A missed one is bounded by that TTL; a forged one only
 * costs a data-key reload.
 */
import type { RedisLimitsConfig } from '../limits/config-types.ts';
import { withDeadline } from '../limits/redis/command-guard.ts';
import { redisModule } from '../limits/redis/redis-module.ts';
import { createWatchedSubscriber } from '../limits/redis/watched-subscriber.ts';
import type { Logger } from '../observability/logger.ts';

export const REVOCATION_CHANNEL = 'key-revocations';
export const TENANT_SHRED_CHANNEL = 'tenant-shreds';
const MAX_KEY_ID_CHARS = 256;

export function revocationChannel(keyPrefix: string): string {
  return `${keyPrefix}${REVOCATION_CHANNEL}`;
}

export function tenantShredChannel(keyPrefix: string): string {
  return `${keyPrefix}${TENANT_SHRED_CHANNEL}`;
}

export interface RevocationListener {
  /** True while subscribed: broadcasts arrive, so cached key records may be trusted. */
  isSubscribed(): boolean;
  /** Resolves once subscribed for the first time (tests, startup logs); rejects after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface RevocationListenerOptions {
  readonly redis: RedisLimitsConfig;
  /** Called with the id of every key revoked anywhere. */
  readonly onRevoked: (keyId: string) => void;
  /** Called with the id of every tenant crypto-shredded anywhere (subscribed only when given). */
  readonly onTenantShredded?: (tenantId: string) => void;
  /** Called whenever the listener (re)subscribes: broadcasts may have been missed before it. */
  readonly onResubscribed?: () => void;
  readonly log: Logger;
  /** CLIENT SETNAME of the subscriber connection (tests find and kill it by name). */
  readonly clientName?: string;
}

export function createRevocationListener(opts: RevocationListenerOptions): RevocationListener {
  const { log, redis } = opts;
  let closed = false;
  let waiters: Array<() => void> = [];

  // One warning per outage (including one that starts before the first subscription), one line when it ends.
  let warned = false;
  const markDown = (reason: string): void => {
    if (closed || warned) return;
    warned = true;
    log.warn(
      { event: 'keys.revocation_feed_down', reason },
      'key revocation broadcasts unavailable; API keys are checked against the store on every request until resubscribed',
    );
  };
  const markUp = (): void => {
    if (closed) return;
    warned = false;
    // Anything cached before the outage may have been revoked during it.
    opts.onResubscribed?.();
    log.info({ event: 'keys.revocation_feed_up' }, 'subscribed to key revocation broadcasts');
    for (const w of waiters) w();
    waiters = [];
  };

  const listener = (message: string): void => {
    if (typeof message !== 'string' || message === '' || message.length > MAX_KEY_ID_CHARS) return;
    opts.onRevoked(message);
  };
  const onTenantShredded = opts.onTenantShredded;
  const shredListener = (message: string): void => {
    if (typeof message !== 'string' || message === '' || message.length > MAX_KEY_ID_CHARS) return;
    onTenantShredded?.(message);
  };
  const channels: Array<readonly [string, (message: string) => void]> = [
    [revocationChannel(redis.keyPrefix), listener],
  ];
  if (onTenantShredded !== undefined) channels.push([tenantShredChannel(redis.keyPrefix), shredListener]);

  // A frozen Redis (or a silent network cut) is noticed by an unanswered PING within redis.timeoutMs.
  const subscriber = createWatchedSubscriber({
    redis,
    channels,
    log,
    purpose: 'keys',
    onUp: markUp,
    onDown: markDown,
    ...(opts.clientName === undefined ? {} : { name: opts.clientName }),
  });

  return {
    isSubscribed: () => !closed && subscriber.isSubscribed(),
    ready(timeoutMs = 10_000) {
      if (subscriber.isSubscribed()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('not subscribed to key revocation broadcasts in time')),
          timeoutMs,
        );
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await subscriber.close();
    },
  };
}

/**
 * Tells every instance that `keyId` was revoked. Call it after the store change, from wherever
 * keys are revoked (CLI, admin API). Resolves with the number of instances that received it, or
 * `undefined` when Redis could not be reached (the cache TTL bounds the delay then). Never throws.
 */
export async function publishKeyRevocation(
  redis: RedisLimitsConfig | undefined,
  keyId: string,
  log?: Logger,
): Promise<number | undefined> {
  if (redis === undefined) return undefined;
  return publishMessage(
    redis,
    revocationChannel(redis.keyPrefix),
    keyId,
    log,
    'keys.revocation_publish_failed',
    'could not broadcast a key revocation; other instances refuse the key once their key cache expires (1 s)',
  );
}

/**
 * Tells every instance that tenant `tenantId` was crypto-shredded, so each wipes its cached data
 * keys of the tenant now. Call it after the shred. Same results as publishKeyRevocation.
 */
export async function publishTenantShred(
  redis: RedisLimitsConfig | undefined,
  tenantId: string,
  log?: Logger,
): Promise<number | undefined> {
  if (redis === undefined) return undefined;
  return publishMessage(
    redis,
    tenantShredChannel(redis.keyPrefix),
    tenantId,
    log,
    'crypto.shred_publish_failed',
    'could not broadcast a tenant shred; other instances drop their cached data keys of the tenant when the cache expires (60 s)',
  );
}

/** One PUBLISH on a short-lived connection, bounded by the Redis timeout; failures are logged as `event`, never thrown. */
export async function publishMessage(
  redis: RedisLimitsConfig,
  channel: string,
  message: string,
  log: Logger | undefined,
  event: string,
  failure: string,
): Promise<number | undefined> {
  const client = redisModule().createClient({
    url: redis.url,
    disableOfflineQueue: true,
    commandOptions: { timeout: redis.timeoutMs },
    socket: { connectTimeout: redis.timeoutMs, reconnectStrategy: false },
  });
  client.on('error', () => undefined);
  try {
    // node-redis stops timing a command once it is written: a frozen Redis must not hold the caller.
    return await withDeadline(
      (async () => {
        await client.connect();
        return client.publish(channel, message);
      })(),
      redis.timeoutMs * 2,
      'PUBLISH',
    );
  } catch (err) {
    log?.warn({ event, reason: describeError(err) }, failure);
    return undefined;
  } finally {
    if (client.isReady) await withDeadline(client.close(), redis.timeoutMs, 'QUIT').catch(() => client.destroy());
    else client.destroy();
  }
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return 'unknown error';
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${err.name} ${code}` : `${err.name}: ${err.message.slice(0, 200)}`;
}
