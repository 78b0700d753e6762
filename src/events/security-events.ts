/**
 * Security events: the stream that threat detection reads and alerts are raised from.
 * Producers (identify, lockout, limits, budgets, guardrails, admin login) call `emit`; it never
 * throws and never blocks the request. Consumers (the log, the audit log, detection rules,
 * webhooks) subscribe. An event holds metadata only: never a key, token, password or prompt.
 */
import type { Logger } from '../observability/logger.ts';

/** Flat detail fields (the audit log records them as an entry's metadata, so the shapes agree). */
export type SecurityEventDetail = Readonly<Record<string, string | number | boolean | null>>;

export type SecuritySeverity = 'info' | 'warning' | 'critical';

export interface SecurityEvent {
  /** Dotted lower-case name: `auth.failure`, `auth.lockout`, `key.revoked_used`, `usage.spike`, … */
  readonly type: string;
  readonly severity: SecuritySeverity;
  /** ISO-8601; set by the bus when omitted. */
  readonly time?: string;
  readonly tenantId: string | null;
  readonly keyId?: string | null;
  /** Non-secret display prefix of the key involved (never the key). */
  readonly keyPrefix?: string | null;
  /** Admin account or JWT subject involved, when there is one. */
  readonly subject?: string | null;
  readonly sourceIp?: string | null;
  readonly requestId?: string | null;
  /** Small flat map of non-secret facts. */
  readonly detail?: SecurityEventDetail;
}

export type SecurityEventListener = (event: SecurityEvent & { readonly time: string }) => void;

export interface SecurityEventSink {
  emit(event: SecurityEvent): void;
}

export interface SecurityEventBus extends SecurityEventSink {
  /** Returns an unsubscribe function. */
  subscribe(listener: SecurityEventListener): () => void;
}

export function createSecurityEventBus(
  opts: { readonly log?: Logger; readonly now?: () => Date } = {},
): SecurityEventBus {
  const listeners = new Set<SecurityEventListener>();
  const now = opts.now ?? (() => new Date());
  return {
    emit(event) {
      const stamped = { ...event, time: event.time ?? now().toISOString() };
      opts.log?.[stamped.severity === 'info' ? 'info' : 'warn'](
        { securityEvent: stamped },
        `security event ${stamped.type}`,
      );
      for (const listener of listeners) {
        try {
          listener(stamped);
        } catch (err) {
          // A faulty consumer must not break the producer (often the request path) or the others.
          opts.log?.error(
            { event: 'security_event.listener_failed', type: stamped.type, error: (err as Error).message },
            'security event listener failed',
          );
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

/** A sink that drops everything (tests, CLI paths with nothing to alert). */
export const NULL_SECURITY_EVENTS: SecurityEventSink = { emit() {} };
