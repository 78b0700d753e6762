/**
 * Opens the configured budget backend (memory or the shared Redis), with the local fallback
 * when `budgets.on_backend_error: local_fallback`: while Redis cannot answer, spend is counted
 * in this instance's memory (budgets then hold per instance, not across the fleet; the switch is
 * logged). The default, fail_closed, refuses requests with 503 `budget.backend_unavailable`.
 */
import type { Logger } from '../../observability/logger.ts';
import type { RedisLimitsConfig } from '../config-types.ts';
import { type BudgetBackend, BudgetBackendError } from './budget-backend.ts';
import type { BudgetsConfig } from './config-types.ts';
import { createMemoryBudgetBackend } from './memory-budget-backend.ts';
import { createRedisBudgetBackend } from './redis-budget-backend.ts';

export function openBudgetBackend(
  cfg: BudgetsConfig,
  redis: RedisLimitsConfig | undefined,
  log: Logger,
): BudgetBackend {
  if (cfg.backend === 'memory') return createMemoryBudgetBackend();
  if (redis === undefined) throw new Error('budgets: backend redis needs the top-level redis section');
  const shared = createRedisBudgetBackend({
    url: redis.url,
    keyPrefix: redis.keyPrefix,
    timeoutMs: redis.timeoutMs,
    log,
  });
  return cfg.onBackendError === 'local_fallback'
    ? withLocalBudgetFallback(shared, createMemoryBudgetBackend(), log)
    : shared;
}

export function withLocalBudgetFallback(primary: BudgetBackend, local: BudgetBackend, log: Logger): BudgetBackend {
  let outage = false;
  async function call<T>(op: (b: BudgetBackend) => Promise<T>): Promise<T> {
    try {
      const result = await op(primary);
      if (outage) {
        outage = false;
        log.info(
          { event: 'budgets.fallback_ended', backend: primary.kind },
          'shared budget backend is back; local budget counters are no longer used',
        );
      }
      return result;
    } catch (err) {
      if (!(err instanceof BudgetBackendError)) throw err;
      if (!outage) {
        outage = true;
        log.warn(
          { event: 'budgets.fallback_started', backend: primary.kind, reason: err.message },
          'shared budget backend unavailable; counting spend locally on this instance until it is back',
        );
      }
      return op(local);
    }
  }
  return {
    kind: `${primary.kind}+local-fallback`,
    ...(primary.reachable === undefined ? {} : { reachable: () => primary.reachable?.() ?? true }),
    reserve: (id, items, amount, ttl) => call((b) => b.reserve(id, items, amount, ttl)),
    extend: (id, items, extra, ttl) => call((b) => b.extend(id, items, extra, ttl)),
    settle: (id, items, reserved, actual) => call((b) => b.settle(id, items, reserved, actual)),
    peek: (items) => call((b) => b.peek(items)),
    async close() {
      await Promise.allSettled([primary.close(), local.close()]);
    },
  };
}
