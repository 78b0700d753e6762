/**
 * Lockouts are security-relevant actions (issue: "lockouts" belong in the audit trail), but
 * they happen deep in identify, the admin login and the OAuth token endpoint, which only emit
 * them on the security event bus. This subscriber writes each one as an audit record. The
 * request that triggered it is already refused, so a failed append is logged, not fatal.
 */

import type { SecurityEventBus } from '../events/security-events.ts';
import type { Logger } from '../observability/logger.ts';
import type { AuditLog } from './audit-log.ts';
import type { AuditEntry } from './types.ts';

const RECORDED_TYPES: ReadonlySet<string> = new Set(['auth.lockout']);

export function recordSecurityEvents(bus: SecurityEventBus, audit: AuditLog, log: Logger): () => void {
  return bus.subscribe((event) => {
    if (!RECORDED_TYPES.has(event.type)) return;
    const entry: AuditEntry = {
      time: event.time,
      actor: { kind: 'system', id: 'lockout', tenant: event.tenantId },
      action: event.type,
      target: (event.subject ?? event.keyPrefix ?? event.sourceIp ?? null)?.slice(0, 256) ?? null,
      decision: 'refused',
      reason: 'auth.locked_out',
      requestId: event.requestId ?? null,
      metadata: {
        severity: event.severity,
        key_prefix: event.keyPrefix ?? null,
        client_ip: event.sourceIp?.slice(0, 64) ?? null,
        ...Object.fromEntries(Object.entries(event.detail ?? {}).slice(0, 8)),
      },
    };
    audit.append(entry).catch((err: unknown) => {
      log.error(
        { event: 'security_event.audit_failed', type: event.type, error: (err as Error).message },
        'could not record a security event in the audit log',
      );
    });
  });
}
