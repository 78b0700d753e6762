/**
 * Repeated refusals: one key keeps sending requests that validation or a guardrail refuses
 * (malformed or oversized payloads, prompts a guardrail blocks, probing for models it may not
 * use) — a caller fuzzing the gateway or trying to get around a guardrail.
 */
import type { WindowedThresholdRule } from '../config-types.ts';
import { NO_DETECTIONS, type RefusalObservation, type ThreatRule } from '../types.ts';
import { WindowCounts } from '../window-count.ts';

/**
 * Refusals that say something about the caller's intent (not rate limits or upstream trouble).
 * `guard.unavailable` is the gateway's own failure (a judge down), not the caller's doing.
 */
export function isAbuseSignal(code: string): boolean {
  if (code === 'guard.unavailable') return false;
  return code.startsWith('request.') || code.startsWith('guard') || code === 'model.not_found';
}

export function createRepeatedRefusalsRule(cfg: WindowedThresholdRule, maxSubjects: number): ThreatRule {
  const counts = new WindowCounts(cfg.windowS, maxSubjects);
  return {
    name: 'repeated_refusals',
    suppressS: cfg.windowS,
    onRefusal(obs: RefusalObservation) {
      if (!isAbuseSignal(obs.code)) return NO_DETECTIONS;
      const subject = `key:${obs.keyId}`;
      const n = counts.add(subject, obs.at);
      if (n < cfg.threshold) return NO_DETECTIONS;
      counts.reset(subject);
      return [
        {
          subject,
          tenantId: obs.tenantId,
          keyId: obs.keyId,
          keyPrefix: obs.keyPrefix,
          sourceIp: obs.ip,
          requestId: obs.requestId,
          detail: { refusals: n, window_s: cfg.windowS, last_code: obs.code },
        },
      ];
    },
  };
}
