/**
 * Credential stuffing: failed authentications for many distinct keys (by prefix) or admin
 * accounts from one address within a window — a list of stolen credentials being tried.
 */
import { BoundedMap } from '../../core/bounded-map.ts';
import type { CredentialStuffingRule } from '../config-types.ts';
import { NO_DETECTIONS, type ObservedEvent, type ThreatRule } from '../types.ts';
import { AUTH_FAILURE_EVENTS, JWT_PREFIX } from './brute-force.ts';

interface Seen {
  start: number;
  identities: Set<string>;
}

export function createCredentialStuffingRule(cfg: CredentialStuffingRule, maxSubjects: number): ThreatRule {
  const windowMs = cfg.windowS * 1000;
  const byIp = new BoundedMap<string, Seen>(maxSubjects);
  return {
    name: 'credential_stuffing',
    suppressS: cfg.windowS,
    onEvent(event: ObservedEvent, now: number) {
      if (!AUTH_FAILURE_EVENTS.has(event.type) || !event.sourceIp) return NO_DETECTIONS;
      const identity =
        event.keyPrefix && event.keyPrefix !== JWT_PREFIX
          ? `prefix:${event.keyPrefix}`
          : event.subject
            ? `account:${event.subject}`
            : undefined;
      if (identity === undefined) return NO_DETECTIONS;
      let seen = byIp.get(event.sourceIp);
      if (seen === undefined || now - seen.start >= windowMs || now < seen.start) {
        seen = { start: now, identities: new Set() };
        byIp.set(event.sourceIp, seen);
      }
      // The set never grows past the threshold: it fires (and is cleared) when it gets there.
      seen.identities.add(identity);
      if (seen.identities.size < cfg.distinctKeys) return NO_DETECTIONS;
      const distinct = seen.identities.size;
      byIp.delete(event.sourceIp);
      return [
        {
          subject: `ip:${event.sourceIp}`,
          tenantId: event.tenantId,
          sourceIp: event.sourceIp,
          requestId: event.requestId ?? null,
          detail: { distinct_identities: distinct, window_s: cfg.windowS },
        },
      ];
    },
  };
}
