/**
 * What happens when a rule fires: the throttle or suspension (if the policy says so), a
 * `security.alert` record in the audit log, a log line, and a `threat.<rule>` security event
 * on the bus (which is what alert webhooks deliver). Never throws: detection runs beside the
 * request path and must not break it.
 */
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditEntry } from '../audit/types.ts';
import type { SecurityEventSink } from '../events/security-events.ts';
import type { Logger } from '../observability/logger.ts';
import { THREAT_EVENT_PREFIX } from './engine.ts';
import type { PenaltyBox } from './penalty-box.ts';
import type { Firing } from './types.ts';

export interface ThreatResponderOptions {
  readonly penalties: PenaltyBox;
  readonly audit: Pick<AuditLog, 'append'> | undefined;
  readonly events: SecurityEventSink;
  readonly log: Logger;
}

export function createThreatResponder(opts: ThreatResponderOptions): (firing: Firing) => void {
  const { penalties, audit, events, log } = opts;
  return (firing) => {
    try {
      if (firing.action === 'throttle' && firing.until !== undefined) {
        penalties.throttle(firing.subject, firing.until, firing.throttleRequestsPerMinute, firing.rule, firing.at);
      } else if (firing.action === 'suspend' && firing.until !== undefined) {
        penalties.suspend(firing.subject, firing.until, firing.rule);
      }
      const until = firing.until === undefined ? null : new Date(firing.until).toISOString();
      log.warn(
        {
          event: 'security.alert',
          rule: firing.rule,
          subject: firing.subject,
          severity: firing.severity,
          action: firing.action,
          until: until ?? undefined,
          tenantId: firing.tenantId,
          keyPrefix: firing.keyPrefix ?? undefined,
          sourceIp: firing.sourceIp ?? undefined,
          requestId: firing.requestId ?? undefined,
          detail: firing.detail,
        },
        `threat detected: ${firing.rule}`,
      );
      if (audit !== undefined) {
        audit.append(alertEntry(firing, until)).catch((err: unknown) => {
          log.error(
            { event: 'security.alert_audit_failed', rule: firing.rule, error: (err as Error).message },
            'could not record security alert in the audit log',
          );
        });
      }
      events.emit({
        type: `${THREAT_EVENT_PREFIX}${firing.rule}`,
        severity: firing.severity,
        time: new Date(firing.at).toISOString(),
        tenantId: firing.tenantId,
        keyId: firing.keyId ?? null,
        keyPrefix: firing.keyPrefix ?? null,
        subject: firing.subject,
        sourceIp: firing.sourceIp ?? null,
        requestId: firing.requestId ?? null,
        detail: { ...firing.detail, rule: firing.rule, action: firing.action, until },
      });
    } catch (err) {
      log.error(
        { event: 'security.alert_failed', rule: firing.rule, error: (err as Error).message },
        'could not act on a threat detection',
      );
    }
  };
}

export function alertEntry(firing: Firing, until: string | null): AuditEntry {
  return {
    time: new Date(firing.at).toISOString(),
    actor: { kind: 'system', id: 'threat-detection', tenant: firing.tenantId },
    action: 'security.alert',
    target: firing.subject.slice(0, 256),
    // A throttle or suspension is a refusal of the subject; an alert decides nothing.
    decision: firing.action === 'alert' ? 'allowed' : 'refused',
    reason:
      firing.action === 'throttle'
        ? 'limit.adaptive_throttle'
        : firing.action === 'suspend'
          ? 'auth.key_suspended'
          : null,
    requestId: firing.requestId ?? null,
    metadata: {
      ...firing.detail,
      rule: firing.rule,
      severity: firing.severity,
      action: firing.action,
      until,
      // What another instance needs to apply the same throttle (threats/shared-penalties.ts).
      ...(firing.action === 'throttle' ? { throttle_rpm: firing.throttleRequestsPerMinute } : {}),
      key_prefix: firing.keyPrefix ?? null,
      client_ip: firing.sourceIp?.slice(0, 64) ?? null,
    },
  };
}
