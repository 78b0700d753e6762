/**
 * Propagation: keeps this instance on the store's active policy version. A new active version
 * is noticed by a Redis message on the policy channel (`<key_prefix>policy:active`) (when Redis is configured) or, whatever
 * happens to Redis, by a cheap poll of the active number (`policy.poll_interval_ms`). The
 * version is composed with this instance's bootstrap and environment and built beside the
 * running snapshot; only a complete build is swapped in.
 *
 * A version that cannot be built here (a `${VAR}` missing on this host, a provider address
 * this host refuses) leaves the instance on its previous version, and says so three ways: a
 * log line, the failed-version metric, and a `policy.apply_failed` security event (which the
 * audit log records). The instance reports its active and failed versions in its heartbeat,
 * which GET /admin/v1/policy/status lists. It does not retry a version that failed (the cause
 * is on this host); the next version, or a restart, is the way forward.
 */
import { hostname } from 'node:os';
import type { GatewayConfig } from '../config/types.ts';
import type { SecurityEventSink } from '../events/security-events.ts';
import type { RedisLimitsConfig } from '../limits/config-types.ts';
import { createWatchedSubscriber, type WatchedSubscriber } from '../limits/redis/watched-subscriber.ts';
import type { Logger } from '../observability/logger.ts';
import { type PolicyStore, type PolicyTarget, policyChannel } from '../policy/contract.ts';
import { composeOffThread } from './compose-off-thread.ts';
import type { Bootstrap } from './document.ts';

const MAX_FAILURE_CHARS = 2000;

export interface PolicyInstance {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
}

export function thisInstance(id: string): PolicyInstance {
  return { id, host: hostname(), pid: process.pid, startedAt: new Date().toISOString() };
}

export interface PolicySyncStatus {
  readonly active: number | undefined;
  readonly failed: number | undefined;
  readonly failure: string | undefined;
}

export interface PolicySyncOptions {
  readonly store: PolicyStore;
  readonly target: PolicyTarget;
  readonly bootstrap: Bootstrap;
  readonly redis: RedisLimitsConfig | undefined;
  readonly pollIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  readonly instance: PolicyInstance;
  readonly log: Logger;
  readonly events: SecurityEventSink;
  /** Where `${VAR}` references resolve; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Told every apply's result (metrics); must not throw. */
  readonly onResult?: (result: 'applied' | 'failed', status: PolicySyncStatus) => void;
}

export interface KnownVersion {
  readonly number: number;
  readonly config: GatewayConfig;
}

export interface PolicySync {
  /**
   * Looks at the store's active number now and adopts it if it is new (serialised; never throws).
   * `known`: the config of a version this process has just composed (its own apply), not composed again.
   */
  check(known?: KnownVersion): Promise<void>;
  status(): PolicySyncStatus;
  /** Writes this instance's heartbeat now (never throws). */
  heartbeat(): Promise<void>;
  close(): Promise<void>;
}

export function startPolicySync(opts: PolicySyncOptions): PolicySync {
  const { store, log } = opts;
  let failed: number | undefined;
  let failure: string | undefined;
  let closed = false;
  let running: Promise<void> | undefined;
  let again = false;
  const active = (): number | undefined => opts.target.activePolicy()?.number;
  const status = (): PolicySyncStatus => ({ active: active(), failed, failure });

  async function heartbeat(): Promise<void> {
    if (closed) return;
    try {
      await store.upsertPolicyHeartbeat({
        instanceId: opts.instance.id,
        host: opts.instance.host,
        pid: opts.instance.pid,
        startedAt: opts.instance.startedAt,
        seenAt: new Date().toISOString(),
        activeVersion: active(),
        ...(failed === undefined ? {} : { failedVersion: failed, failure: failure ?? '' }),
      });
    } catch (err) {
      log.warn(
        { event: 'policy.heartbeat_failed', err: (err as Error).message },
        'could not write the policy heartbeat',
      );
    }
  }

  let known: KnownVersion | undefined;
  async function adopt(): Promise<void> {
    const n = await store.activePolicyNumber();
    if (n === undefined || n === active() || n === failed) return;
    const version = await store.getPolicyVersion(n);
    // Superseded between the two reads: the next check sees the newer one.
    if (version === undefined || version.state !== 'active') return;
    try {
      // Read and composed on a worker thread: the requests this instance serves do not wait for it.
      const config =
        known?.number === n
          ? known.config
          : (
              await composeOffThread(
                opts.bootstrap,
                version.document,
                `policy version ${n}`,
                opts.env ?? opts.bootstrap.env ?? process.env,
              )
            ).config;
      await opts.target.applyPolicy(config, { number: n, sha256: version.sha256 });
      failed = undefined;
      failure = undefined;
      opts.onResult?.('applied', status());
    } catch (err) {
      failed = n;
      failure = describe(err);
      const running = active();
      log.error(
        { event: 'policy.apply_failed', version: n, active: running, reason: failure },
        `policy version ${n} cannot be built on this instance; staying on version ${running ?? '(none)'}`,
      );
      opts.events.emit({
        type: 'policy.apply_failed',
        severity: 'critical',
        tenantId: null,
        detail: {
          version: n,
          active_version: running ?? null,
          instance: opts.instance.id,
          reason: failure.slice(0, 500),
        },
      });
      opts.onResult?.('failed', status());
    }
    await heartbeat();
  }

  function check(version?: KnownVersion): Promise<void> {
    if (closed) return Promise.resolve();
    if (version !== undefined) known = version;
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await adopt();
        } catch (err) {
          // The store could not answer: nothing changes, the next poll tries again.
          log.warn({ event: 'policy.check_failed', err: (err as Error).message }, 'could not read the active policy');
        }
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  const poll = setInterval(() => void check(), opts.pollIntervalMs);
  poll.unref();
  const beat = setInterval(() => void heartbeat(), opts.heartbeatIntervalMs);
  beat.unref();
  let subscriber: WatchedSubscriber | undefined;
  if (opts.redis !== undefined) {
    let down = false;
    subscriber = createWatchedSubscriber({
      redis: opts.redis,
      channels: [[policyChannel(opts.redis.keyPrefix), () => void check()]],
      log,
      purpose: 'policy',
      onUp: () => {
        if (down) log.info({ event: 'policy.feed_up' }, 'subscribed to policy announcements');
        down = false;
        void check(); // anything announced while unsubscribed
      },
      onDown: (reason) => {
        if (down || closed) return;
        down = true;
        log.warn(
          { event: 'policy.feed_down', reason },
          `policy announcements unavailable; new versions are noticed by the store poll (every ${opts.pollIntervalMs} ms)`,
        );
      },
    });
  }
  void heartbeat();

  return {
    check,
    status,
    heartbeat,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(poll);
      clearInterval(beat);
      await subscriber?.close();
      await running;
    },
  };
}

/** The reason a version failed, without secret values (config problems name paths and variables only). */
function describe(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.length > MAX_FAILURE_CHARS ? `${text.slice(0, MAX_FAILURE_CHARS)}…` : text;
}
