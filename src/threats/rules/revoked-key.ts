/**
 * Revoked key used: a key that was revoked is still being presented — it leaked, or a client
 * was never updated. Reads `key.revoked_used`, and `auth.failure` with reason `revoked` (the
 * same request reported both ways counts once).
 */
import { BoundedMap } from '../../core/bounded-map.ts';
import type { WindowedThresholdRule } from '../config-types.ts';
import { NO_DETECTIONS, type ObservedEvent, type ThreatRule } from '../types.ts';
import { WindowCounts } from '../window-count.ts';

export function createRevokedKeyRule(cfg: WindowedThresholdRule, maxSubjects: number): ThreatRule {
  const counts = new WindowCounts(cfg.windowS, maxSubjects);
  const lastRequest = new BoundedMap<string, string>(maxSubjects);
  return {
    name: 'revoked_key',
    suppressS: cfg.windowS,
    onEvent(event: ObservedEvent, now: number) {
      const revoked =
        event.type === 'key.revoked_used' || (event.type === 'auth.failure' && event.detail?.reason === 'revoked');
      if (!revoked) return NO_DETECTIONS;
      const subject = event.keyId ? `key:${event.keyId}` : event.keyPrefix ? `prefix:${event.keyPrefix}` : undefined;
      if (subject === undefined) return NO_DETECTIONS;
      if (event.requestId) {
        if (lastRequest.peek(subject) === event.requestId) return NO_DETECTIONS;
        lastRequest.set(subject, event.requestId);
      }
      const n = counts.add(subject, now);
      if (n < cfg.threshold) return NO_DETECTIONS;
      counts.reset(subject);
      return [
        {
          subject,
          tenantId: event.tenantId,
          keyId: event.keyId ?? null,
          keyPrefix: event.keyPrefix ?? null,
          sourceIp: event.sourceIp ?? null,
          requestId: event.requestId ?? null,
          detail: { uses: n, window_s: cfg.windowS },
        },
      ];
    },
  };
}
