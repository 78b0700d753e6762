/**
 * Which shared backends this instance uses and whether each answers now, for the
 * `portcullis_backend_up` gauge. A backend the instance does not use is not listed; an
 * embedded one (SQLite, in-memory counters) has no `reachable` and is not listed either.
 */
import type { RevocationListener } from '../identity/revocation-broadcast.ts';
import type { SharedLockouts } from '../identity/shared-lockout.ts';
import type { BudgetBackend } from '../limits/budgets/budget-backend.ts';
import type { LimitBackend } from '../limits/limit-backend.ts';
import type { Store } from '../store/store.ts';

export interface SharedBackends {
  readonly store: Store;
  readonly limits: LimitBackend | undefined;
  readonly budgets: BudgetBackend | undefined;
  readonly lockout: SharedLockouts | undefined;
  readonly revocations: RevocationListener | undefined;
}

export function backendsUp(b: SharedBackends): Array<{ backend: string; up: boolean }> {
  const out: Array<{ backend: string; up: boolean }> = [];
  if (b.store.reachable !== undefined) out.push({ backend: 'postgres', up: b.store.reachable() });
  if (b.limits?.reachable !== undefined) out.push({ backend: 'redis_limits', up: b.limits.reachable() });
  if (b.budgets?.reachable !== undefined) out.push({ backend: 'redis_budgets', up: b.budgets.reachable() });
  if (b.lockout !== undefined) out.push({ backend: 'redis_lockout', up: b.lockout.reachable() });
  if (b.revocations !== undefined) out.push({ backend: 'redis_revocations', up: b.revocations.isSubscribed() });
  return out;
}
