/**
 * `on_backend_error: local_fallback`: while the shared backend (Redis) cannot answer, count in
 * this instance's memory instead of refusing every request. Limits then hold per instance, not
 * across the fleet, so the switch is logged: one warning when an outage starts, one line when it
 * ends. The default, `fail_closed`, does not use this wrapper: the stage refuses with 503.
 */
import type { Logger } from '../observability/logger.ts';
import { type LimitBackend, LimitBackendError } from './limit-backend.ts';

export function withLocalFallback(primary: LimitBackend, local: LimitBackend, log: Logger): LimitBackend {
  let outage = false;

  async function call<T>(op: (b: LimitBackend) => Promise<T>): Promise<T> {
    try {
      const result = await op(primary);
      if (outage) {
        outage = false;
        log.info(
          { event: 'limits.fallback_ended', backend: primary.kind },
          'shared limit backend is back; local fallback counters are no longer used',
        );
      }
      return result;
    } catch (err) {
      if (!(err instanceof LimitBackendError)) throw err;
      if (!outage) {
        outage = true;
        log.warn(
          { event: 'limits.fallback_started', backend: primary.kind, reason: err.message },
          'shared limit backend unavailable; counting limits locally on this instance until it is back',
        );
      }
      return op(local);
    }
  }

  return {
    kind: `${primary.kind}+local-fallback`,
    ...(primary.reachable === undefined ? {} : { reachable: () => primary.reachable?.() ?? true }),
    admit: (slots, leaseId, ttlMs, rates, reservation) =>
      call((b) => b.admit(slots, leaseId, ttlMs, rates, reservation)),
    finish: (settle, slotKeys, leaseId) => call((b) => b.finish(settle, slotKeys, leaseId)),
    take: (items, reservation) => call((b) => b.take(items, reservation)),
    settle: (id, items, reserved, actual) => call((b) => b.settle(id, items, reserved, actual)),
    acquire: (items, leaseId, ttlMs) => call((b) => b.acquire(items, leaseId, ttlMs)),
    renew: (keys, leaseId, ttlMs) => call((b) => b.renew(keys, leaseId, ttlMs)),
    release: (keys, leaseId) => call((b) => b.release(keys, leaseId)),
    async close() {
      await Promise.allSettled([primary.close(), local.close()]);
    },
  };
}
