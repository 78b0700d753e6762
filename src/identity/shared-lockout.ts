/**
 * Brute-force lockout shared by every instance through Redis (when the top-level `redis`
 * section is configured). Without it each instance counts its own failures, and behind a load
 * balancer an attacker gets N × threshold guesses per window.
 *
 * Each instance keeps its in-process lockout (lockout.ts) as the authority for `check`, which
 * stays synchronous and costs no round trip. Every failure is also counted in Redis, per
 * lockout scope (`proxy`, `oauth`, `admin`) and subject, in a sliding window (a sorted set of
 * failure times, by the Redis clock). The failure that reaches the threshold there starts a
 * shared lockout: its length doubles with each lockout of that subject (kept in Redis), and it
 * is published on `<key_prefix>lockouts`; every instance then locks the subject locally at once.
 * A failure counted while the subject is locked there answers the remaining time, so an
 * instance that missed the broadcast learns it from its next failure for that subject.
 *
 * Limits, as documented in docs/authentication.md: between the threshold being reached and the broadcast
 * arriving (milliseconds), and on an instance that was not subscribed when it was sent, a
 * locked subject can still get a guess checked. If Redis is unreachable (or does not answer within
 * `redis.timeout_ms`: every command has the gateway's own deadline), counting falls back to
 * each instance's own (one warning per outage). Anyone who can publish on the channel can lock
 * a subject out for at most `max_lockout`; it can never unlock one.
 */
import { randomBytes } from 'node:crypto';
import type { RedisLimitsConfig } from '../limits/config-types.ts';
import { describeRedisError, guardedScriptedClient, keyedScript } from '../limits/redis/scripted-client.ts';
import { createWatchedSubscriber } from '../limits/redis/watched-subscriber.ts';
import type { Logger } from '../observability/logger.ts';
import type { Lockout, LockoutOptions, MemoryLockout } from './lockout.ts';

export const LOCKOUT_CHANNEL = 'lockouts';
export const LOCKOUT_SCOPES = ['proxy', 'oauth', 'admin'] as const;
export type LockoutScope = (typeof LOCKOUT_SCOPES)[number];
const MAX_SUBJECT_CHARS = 320;

// KEYS: failures (zset), level, lock. ARGV: threshold, window ms, base ms, max ms, channel, message head, member.
// Returns the lock's remaining ms (0: not locked). Times are Redis's own clock, so instances' clocks do not matter.
const FAIL_SCRIPT = `
local left = redis.call('PTTL', KEYS[3])
if left > 0 then return left end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[7])
redis.call('PEXPIRE', KEYS[1], window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
local level = redis.call('INCR', KEYS[2])
local maxMs = tonumber(ARGV[4])
local duration = math.min(maxMs, tonumber(ARGV[3]) * 2 ^ math.min(level - 1, 30))
redis.call('SET', KEYS[3], '1', 'PX', duration)
redis.call('PEXPIRE', KEYS[2], duration + math.max(window, maxMs))
redis.call('PUBLISH', ARGV[5], ARGV[6] .. duration)
return duration
`;

export interface SharedLockoutOptions {
  readonly redis: RedisLimitsConfig;
  readonly log: Logger;
  /** CLIENT SETNAME prefix of the two connections (tests find them by name). */
  readonly clientName?: string;
}

export interface SharedLockouts {
  /** The lockout of one scope: `local` decides, Redis shares the counting. One per scope. */
  share(
    scope: LockoutScope,
    local: MemoryLockout,
    opts: Pick<LockoutOptions, 'threshold' | 'windowS' | 'baseLockoutS' | 'maxLockoutS'>,
  ): Lockout;
  /** Resolves once subscribed to the broadcasts (tests, startup); rejects after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** False while Redis is unreachable, known stuck, or the broadcasts are not subscribed (read by metrics). */
  reachable(): boolean;
  /** Settles when every Redis update started so far has (tests). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export function lockoutChannel(keyPrefix: string): string {
  return `${keyPrefix}${LOCKOUT_CHANNEL}`;
}

export function createSharedLockouts(opts: SharedLockoutOptions): SharedLockouts {
  const { redis, log } = opts;
  const channel = lockoutChannel(redis.keyPrefix);
  const health = { url: redis.url, timeoutMs: redis.timeoutMs, log, purpose: 'lockout' };
  const scripts = { fail: keyedScript(FAIL_SCRIPT) };
  // Every command has the gateway's own deadline (redis.timeout_ms): a frozen Redis costs a
  // failure counted on this instance only, never a waiting login or request.
  const guard = guardedScriptedClient(
    health,
    scripts,
    opts.clientName === undefined ? undefined : `${opts.clientName}-cmd`,
  );

  const locals = new Map<LockoutScope, MemoryLockout>();
  const pending = new Set<Promise<void>>();
  let closed = false;

  const onMessage = (message: string): void => {
    // `<scope>\n<subject>\n<duration ms>`; anything else is ignored.
    if (typeof message !== 'string' || message.length > MAX_SUBJECT_CHARS + 32) return;
    const a = message.indexOf('\n');
    const b = message.lastIndexOf('\n');
    if (a <= 0 || b <= a) return;
    const local = locals.get(message.slice(0, a) as LockoutScope);
    const subject = message.slice(a + 1, b);
    const ms = Number(message.slice(b + 1));
    if (local === undefined || subject === '' || !Number.isSafeInteger(ms) || ms <= 0) return;
    local.applyLock(subject, ms);
  };

  let subscribed = false;
  let waiters: Array<() => void> = [];
  const subscriber = createWatchedSubscriber({
    redis,
    log,
    purpose: 'lockout',
    channels: [[channel, onMessage]],
    ...(opts.clientName === undefined ? {} : { name: `${opts.clientName}-sub` }),
    onUp: () => {
      subscribed = true;
      for (const w of waiters) w();
      waiters = [];
    },
    onDown: () => undefined, // reported once per outage by the command client's watch
  });

  const track = (p: Promise<void>): void => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  const keysOf = (scope: LockoutScope, subject: string): string[] => {
    const base = `${redis.keyPrefix}lockout:${scope}:${subject}`;
    return [`${base}:failures`, `${base}:level`, `${base}:lock`];
  };

  return {
    share(scope, local, o) {
      if (locals.has(scope)) throw new Error(`shared lockout: scope ${scope} is already shared`);
      locals.set(scope, local);
      const args = (subject: string): string[] => [
        String(o.threshold),
        String(o.windowS * 1000),
        String(o.baseLockoutS * 1000),
        String(o.maxLockoutS * 1000),
        channel,
        `${scope}\n${subject}\n`,
        `${Date.now()}:${randomBytes(6).toString('base64url')}`,
      ];
      const count = (subject: string): void => {
        if (closed || !guard.usable() || subject.length > MAX_SUBJECT_CHARS) return;
        track(
          (async () => {
            try {
              const left = Number(await guard.run((client) => client.fail(keysOf(scope, subject), args(subject))));
              if (left > 0) local.applyLock(subject, left);
            } catch (err) {
              log.debug(
                { event: 'lockout.redis_failed', reason: describeRedisError(err) },
                'a failure was counted on this instance only',
              );
            }
          })(),
        );
      };
      return {
        check: (subjects, now) => local.check(subjects, now),
        recordFailure(subjects, now) {
          const verdict = local.recordFailure(subjects, now);
          for (const subject of subjects) count(subject);
          return verdict;
        },
        recordSuccess(subjects) {
          local.recordSuccess(subjects);
          if (closed || !guard.usable()) return;
          // Like the local count: the failures go, a running lockout and its level stay.
          const keys = subjects.filter((s) => s.length <= MAX_SUBJECT_CHARS).map((s) => keysOf(scope, s)[0]!);
          if (keys.length > 0)
            track(
              guard
                .run((client) => client.del(keys))
                .then(
                  () => undefined,
                  () => undefined,
                ),
            );
        },
      };
    },
    async ready(timeoutMs = 10_000) {
      if (closed) throw new Error('the shared lockout is closed');
      if (subscribed) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('the lockout subscription did not come up in time')),
          timeoutMs,
        );
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    // The subscriber's PING each second notices a freeze even when no failure is being counted.
    reachable: () => guard.usable() && subscriber.isSubscribed(),
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...pending]);
      await Promise.all([guard.close(), subscriber.close()]);
    },
  };
}
