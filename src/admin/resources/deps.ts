/**
 * What the admin resource routes need, and the one way they record a change: every change is
 * written to the audit log with an `admin` actor, and a change the audit log cannot take is
 * undone (where it can be) and refused, so the admin API never does what it cannot record.
 */
import type { AuditLog } from '../../audit/audit-log.ts';
import type { PgAuditReader } from '../../audit/postgres/reader.ts';
import type { AuditActor, AuditEntry, AuditMetadata } from '../../audit/types.ts';
import type { GatewayConfig } from '../../config/types.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import type { SecurityEventSink } from '../../events/security-events.ts';
import type { BudgetBackend } from '../../limits/budgets/budget-backend.ts';
import type { PolicyService } from '../../live-policy/service.ts';
import type { Store } from '../../store/store.ts';
import type { AdminPrincipal, AdminRequest } from '../types.ts';

/** What the policy routes need besides the resource deps (absent: every policy route answers 403 operator_only). */
export interface AdminPolicyDeps {
  readonly service: PolicyService;
  /** `policy.operator_tenant`; undefined: no admin may use the policy routes. */
  readonly operatorTenant: string | undefined;
}

export interface AdminResourceDeps {
  readonly store: Store;
  readonly audit: Pick<AuditLog, 'append' | 'healthy' | 'publicKey'>;
  /** The audit log's file, read (never written) by the audit routes. */
  readonly auditPath: string;
  /** With `store.driver: postgres`: the audit log's chains in the database, read instead of the file. */
  readonly auditReader?: Pick<PgAuditReader, 'tenantRecords' | 'verifyChains'>;
  /** The API-key hashing secret (security.key_hash_secret). */
  readonly keyHashSecret: Buffer;
  /** Told after a key is revoked (or rotated away), to drop it from every instance's key cache. */
  readonly onKeyRevoked?: (keyId: string) => void | Promise<void>;
  readonly now?: () => Date;
  /** Security events raised by admin changes (prompt-API lifecycle and subscriptions); absent: not raised. */
  readonly events?: SecurityEventSink;
  /** The running config, for the read-only provider and route listings (undefined: they answer empty lists). */
  readonly gatewayConfig?: Pick<GatewayConfig, 'providers' | 'models'> &
    Partial<Pick<GatewayConfig, 'budgets' | 'limits'>>;
  /** The whole running config, read by the compliance report (GET /admin/v1/compliance/report). */
  readonly fullConfig?: GatewayConfig;
  /** Live policy heartbeat period (`policy.heartbeat_interval_ms`; default its default), for GET /admin/v1/policy/status. */
  readonly policyHeartbeatMs?: number;
  /** The budget counters (undefined: no budget rules), read by GET /admin/v1/budgets. */
  readonly budgetBackend?: Pick<BudgetBackend, 'peek'>;
  /** Live policy operations (src/live-policy/service.ts); undefined: the policy routes answer 403 `policy.operator_only`. */
  readonly policy?: AdminPolicyDeps;
  /** The full config this instance started with: the active policy for dry-run and explain before any version is stored. */
  readonly runningConfig?: () => GatewayConfig;
  /** This instance's circuit breakers (provider, upstream model, state); only targets that have been called are listed. */
  readonly breakerStates?: () => ReadonlyArray<{
    readonly provider: string;
    readonly model: string;
    readonly state: string;
  }>;
}

/** The audit actor of an admin call; an admin API token is named in the metadata by `adminAuditEntry`. */
export function adminActor(principal: AdminPrincipal): AuditActor {
  return { kind: 'admin', id: principal.userId, tenant: principal.tenantId };
}

export function adminAuditEntry(
  req: AdminRequest,
  principal: AdminPrincipal,
  action: string,
  target: string | null,
  metadata: AuditMetadata = {},
): AuditEntry {
  return {
    actor: adminActor(principal),
    action,
    target,
    decision: 'allowed',
    reason: null,
    requestId: req.requestId,
    metadata: {
      role: principal.role,
      via: principal.via,
      ...(principal.tokenId ? { token_id: principal.tokenId } : {}),
      client_ip: req.remoteAddress.slice(0, 64),
      ...metadata,
    },
  };
}

/** Refuses up front when the audit log is known to be down, so nothing is changed in vain. */
export function assertAuditWritable(deps: AdminResourceDeps): void {
  if (!deps.audit.healthy()) throw gatewayError('audit.unavailable');
}

/**
 * Records a change that has just been made. When the record cannot be written, `undo` puts
 * things back (best effort) and the call is refused with 503 `audit.unavailable`.
 */
export async function recordChange(
  deps: AdminResourceDeps,
  entry: AuditEntry,
  undo?: () => Promise<unknown>,
): Promise<void> {
  try {
    await deps.audit.append(entry);
  } catch (err) {
    if (undo) await undo().catch(() => undefined);
    throw gatewayError('audit.unavailable', { cause: err, internal: { action: entry.action, target: entry.target } });
  }
}

/** The principal of a `principal` route; its absence is a wiring bug, refused rather than guessed. */
export function principalOf(req: AdminRequest): AdminPrincipal {
  if (req.principal === undefined) throw gatewayError('internal.error', { params: { requestId: req.requestId } });
  return req.principal;
}

export function nowOf(deps: AdminResourceDeps): Date {
  return deps.now?.() ?? new Date();
}
