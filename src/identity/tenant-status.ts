/**
 * Is this tenant allowed to act? The one check behind tenant suspension, shared by the request
 * path (stages/tenant-status) and the admin API (logins, sessions, admin API tokens).
 *
 * The answer is cached per tenant for `cacheTtlMs` (default 1 s, like the key verifier), so a
 * busy tenant costs one store read per second and instance, not one per request, and a
 * suspension made by another process (`portcullis tenants suspend`) shows within that time.
 * A tenant id the store does not know is active: keys and JWT tenant claims may name tenants
 * that were never registered (`keys create --tenant`, an IdP's claim), and only an explicit
 * suspension refuses. A store error refuses (503 `store.unavailable`): fail closed.
 */
import { gatewayError } from '../errors/gateway-error.ts';
import type { TenantStatus } from '../store/tenancy.ts';

export interface TenantStatusSource {
  getTenant(tenantId: string): Promise<{ readonly status: TenantStatus } | undefined>;
}

export interface TenantStatusGateOptions {
  readonly store: TenantStatusSource;
  /** How long a tenant's status is trusted without asking the store again; 0 disables caching. */
  readonly cacheTtlMs?: number;
  readonly maxCacheEntries?: number;
  /** Monotonic clock in ms (tests). */
  readonly clock?: () => number;
}

export interface TenantStatusGate {
  /** Resolves when the tenant may act; throws 403 `auth.tenant_suspended` or 503 `store.unavailable`. */
  assertActive(tenantId: string): Promise<void>;
  /** Forget one tenant's cached status (after a change made in this process), or every one. */
  invalidate(tenantId?: string): void;
}

export const DEFAULT_TENANT_STATUS_TTL_MS = 1000;
const MAX_TENANT_STATUS_TTL_MS = 1000;

export function createTenantStatusGate(opts: TenantStatusGateOptions): TenantStatusGate {
  const ttl = opts.cacheTtlMs ?? DEFAULT_TENANT_STATUS_TTL_MS;
  const max = opts.maxCacheEntries ?? 10_000;
  // Capped at 1 s: a suspension is a security decision and must not wait on a long cache.
  if (!(Number.isInteger(ttl) && ttl >= 0 && ttl <= MAX_TENANT_STATUS_TTL_MS)) {
    throw new Error(`tenant status: cacheTtlMs must be an integer 0..${MAX_TENANT_STATUS_TTL_MS}`);
  }
  if (!(Number.isInteger(max) && max >= 1))
    throw new Error('tenant status: maxCacheEntries must be a positive integer');
  const clock = opts.clock ?? (() => performance.now());
  const cache = new Map<string, { readonly suspended: boolean; readonly until: number }>();
  // Bumped by every invalidation: a lookup that raced with one does not cache what it read.
  let generation = 0;

  async function suspended(tenantId: string): Promise<boolean> {
    if (ttl > 0) {
      const hit = cache.get(tenantId);
      if (hit !== undefined && hit.until > clock()) return hit.suspended;
    }
    const before = generation;
    let status: TenantStatus | undefined;
    try {
      status = (await opts.store.getTenant(tenantId))?.status;
    } catch (err) {
      throw gatewayError('store.unavailable', { cause: err, internal: { check: 'tenant_status' } });
    }
    // Anything but an explicit 'active' (or no row at all) is treated as suspended.
    const isSuspended = status !== undefined && status !== 'active';
    if (ttl > 0 && before === generation) {
      cache.delete(tenantId);
      // Unknown tenant ids (JWT claims) could be many: the cache stays bounded.
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
      cache.set(tenantId, { suspended: isSuspended, until: clock() + ttl });
    }
    return isSuspended;
  }

  return {
    async assertActive(tenantId) {
      if (await suspended(tenantId)) throw gatewayError('auth.tenant_suspended', { internal: { tenantId } });
    },
    invalidate(tenantId) {
      generation++;
      if (tenantId === undefined) cache.clear();
      else cache.delete(tenantId);
    },
  };
}
