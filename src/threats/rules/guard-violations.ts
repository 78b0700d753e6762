/**
 * Guard violations: one key keeps sending (or getting back) text the guardrails act on —
 * blocked injections and secrets, but also the redactions and flags that pass, which
 * `repeated_refusals` cannot see. A caller probing the guardrails for a phrasing that slips
 * through shows up here before one succeeds. Reads `guard.violation` events (one per detector
 * that found something on a request); a request counts once whatever number of detectors fired.
 */
import { BoundedMap } from '../../core/bounded-map.ts';
import type { WindowedThresholdRule } from '../config-types.ts';
import { NO_DETECTIONS, type ObservedEvent, type ThreatRule } from '../types.ts';
import { WindowCounts } from '../window-count.ts';

export const GUARD_VIOLATION_EVENT = 'guard.violation';

export function createGuardViolationsRule(cfg: WindowedThresholdRule, maxSubjects: number): ThreatRule {
  const counts = new WindowCounts(cfg.windowS, maxSubjects);
  const lastRequest = new BoundedMap<string, string>(maxSubjects);
  return {
    name: 'guard_violations',
    suppressS: cfg.windowS,
    onEvent(event: ObservedEvent, now: number) {
      if (event.type !== GUARD_VIOLATION_EVENT || !event.keyId) return NO_DETECTIONS;
      const subject = `key:${event.keyId}`;
      if (event.requestId) {
        if (lastRequest.peek(subject) === event.requestId) return NO_DETECTIONS;
        lastRequest.set(subject, event.requestId);
      }
      const n = counts.add(subject, now);
      if (n < cfg.threshold) return NO_DETECTIONS;
      counts.reset(subject);
      const detector = event.detail?.['detector'];
      return [
        {
          subject,
          tenantId: event.tenantId,
          keyId: event.keyId,
          keyPrefix: event.keyPrefix ?? null,
          sourceIp: event.sourceIp ?? null,
          requestId: event.requestId ?? null,
          detail: {
            violations: n,
            window_s: cfg.windowS,
            last_detector: typeof detector === 'string' ? detector : null,
          },
        },
      ];
    },
  };
}
