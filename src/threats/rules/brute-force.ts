/**
 * Brute force: many failed authentications from one address, against one key prefix, or
 * against one admin account, within a window. Reads `auth.failure` and `admin.login_failed`.
 */
import type { WindowedThresholdRule } from '../config-types.ts';
import { type Detection, NO_DETECTIONS, type ObservedEvent, type ThreatRule } from '../types.ts';
import { WindowCounts } from '../window-count.ts';

/** Every JWT caller shows this display prefix; it names no key, so it is never a subject. */
export const JWT_PREFIX = 'jwt';

export const AUTH_FAILURE_EVENTS: ReadonlySet<string> = new Set(['auth.failure', 'admin.login_failed']);

export function createBruteForceRule(cfg: WindowedThresholdRule, maxSubjects: number): ThreatRule {
  const counts = new WindowCounts(cfg.windowS, maxSubjects);
  return {
    name: 'brute_force',
    suppressS: cfg.windowS,
    onEvent(event: ObservedEvent, now: number) {
      if (!AUTH_FAILURE_EVENTS.has(event.type)) return NO_DETECTIONS;
      const subjects: string[] = [];
      if (event.sourceIp) subjects.push(`ip:${event.sourceIp}`);
      if (event.keyPrefix && event.keyPrefix !== JWT_PREFIX) subjects.push(`prefix:${event.keyPrefix}`);
      if (event.type === 'admin.login_failed' && event.subject) subjects.push(`account:${event.subject}`);
      const out: Detection[] = [];
      for (const subject of subjects) {
        const n = counts.add(subject, now);
        if (n < cfg.threshold) continue;
        counts.reset(subject);
        out.push({
          subject,
          tenantId: event.tenantId,
          keyPrefix: event.keyPrefix ?? null,
          sourceIp: event.sourceIp ?? null,
          requestId: event.requestId ?? null,
          detail: { failures: n, window_s: cfg.windowS, last_event: event.type },
        });
      }
      return out;
    },
  };
}
