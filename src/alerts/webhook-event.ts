/** The JSON body of a webhook delivery, and which webhooks want which events. */
import { randomUUID } from 'node:crypto';
import type { SecurityEvent, SecuritySeverity } from '../events/security-events.ts';
import type { WebhookConfig } from './config-types.ts';

export interface WebhookPayload {
  /** Unique per event; the same on every retry and for every webhook (receiver-side dedup). */
  readonly id: string;
  readonly type: string;
  readonly severity: SecuritySeverity;
  readonly time: string;
  readonly tenant_id: string | null;
  readonly key_id: string | null;
  readonly key_prefix: string | null;
  readonly subject: string | null;
  readonly source_ip: string | null;
  readonly request_id: string | null;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

const RANK: Readonly<Record<SecuritySeverity, number>> = { info: 0, warning: 1, critical: 2 };

export function toPayload(event: SecurityEvent, id: string = `evt_${randomUUID()}`): WebhookPayload {
  return {
    id,
    type: event.type,
    severity: event.severity,
    time: event.time ?? new Date().toISOString(),
    tenant_id: event.tenantId ?? null,
    key_id: event.keyId ?? null,
    key_prefix: event.keyPrefix ?? null,
    subject: event.subject ?? null,
    source_ip: event.sourceIp ?? null,
    request_id: event.requestId ?? null,
    detail: event.detail ?? {},
  };
}

/** `*` matches everything, `threat.*` every type starting with `threat.`, anything else exactly. */
export function matchesEventPattern(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

export function wants(
  hook: Pick<WebhookConfig, 'minSeverity' | 'events'>,
  event: Pick<SecurityEvent, 'type' | 'severity'>,
): boolean {
  return RANK[event.severity] >= RANK[hook.minSeverity] && hook.events.some((p) => matchesEventPattern(p, event.type));
}
