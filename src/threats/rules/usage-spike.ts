/**
 * Usage spike: a key's requests in the current window reach `factor` times its own baseline
 * (an EWMA of its past windows, idle windows included) and at least `min_requests`. A key's
 * baseline is trusted only after `warmup_windows` windows; fires at most once per window.
 */
import { BoundedMap } from '../../core/bounded-map.ts';
import type { UsageSpikeRule } from '../config-types.ts';
import { NO_DETECTIONS, type RequestObservation, type ThreatRule } from '../types.ts';

interface Usage {
  windowStart: number;
  count: number;
  baseline: number;
  windows: number;
  fired: boolean;
}

export function createUsageSpikeRule(cfg: UsageSpikeRule, maxSubjects: number): ThreatRule {
  const windowMs = cfg.windowS * 1000;
  const alpha = 2 / (cfg.baselineWindows + 1);
  const byKey = new BoundedMap<string, Usage>(maxSubjects);
  return {
    name: 'usage_spike',
    suppressS: cfg.windowS,
    onRequest(obs: RequestObservation) {
      let u = byKey.get(obs.keyId);
      if (u === undefined) {
        u = { windowStart: obs.at, count: 0, baseline: 0, windows: 0, fired: false };
        byKey.set(obs.keyId, u);
      }
      const elapsed = Math.floor((obs.at - u.windowStart) / windowMs);
      if (elapsed >= 1) {
        // Fold the finished window into the baseline, then decay it for each idle window after it.
        u.baseline = u.windows === 0 ? u.count : alpha * u.count + (1 - alpha) * u.baseline;
        if (elapsed > 1) u.baseline *= (1 - alpha) ** Math.min(elapsed - 1, 1000);
        u.windows += elapsed;
        u.windowStart += elapsed * windowMs;
        u.count = 0;
        u.fired = false;
      }
      u.count += 1;
      if (u.fired || u.windows < cfg.warmupWindows || u.count < cfg.minRequests || u.count < cfg.factor * u.baseline)
        return NO_DETECTIONS;
      u.fired = true;
      return [
        {
          subject: `key:${obs.keyId}`,
          tenantId: obs.tenantId,
          keyId: obs.keyId,
          keyPrefix: obs.keyPrefix,
          sourceIp: obs.ip,
          requestId: obs.requestId,
          detail: {
            requests: u.count,
            window_s: cfg.windowS,
            baseline: Math.round(u.baseline * 100) / 100,
            factor: cfg.factor,
          },
        },
      ];
    },
  };
}
