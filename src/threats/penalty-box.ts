/**
 * Active throttles and suspensions, by subject (`key:<id>`, `prefix:<p>`, `ip:<addr>`).
 * A throttle lets `throttle_requests_per_minute` through, spaced evenly, starting one interval
 * after it began; a suspension refuses everything. Both end at `until`. Checked on every
 * authenticated request, so a check is a few Map lookups.
 */

import { BoundedMap } from '../core/bounded-map.ts';
import type { ErrorCode } from '../errors/codes.ts';

interface Penalty {
  kind: 'throttle' | 'suspend';
  until: number;
  /** 0: nothing passes until `until`. */
  intervalMs: number;
  nextAllowedAt: number;
  rule: string;
}

export interface PenaltyVerdict {
  readonly code: Extract<ErrorCode, 'limit.adaptive_throttle' | 'auth.key_suspended'>;
  readonly retryAfterS: number;
  readonly subject: string;
  readonly rule: string;
}

export interface PenaltyBox {
  throttle(subject: string, until: number, requestsPerMinute: number, rule: string, now: number): void;
  suspend(subject: string, until: number, rule: string): void;
  /** Undefined: none of the subjects is held back now (the throttle slot, if any, is taken). */
  check(subjects: readonly string[], now: number): PenaltyVerdict | undefined;
  readonly size: number;
}

export function createPenaltyBox(maxSubjects: number): PenaltyBox {
  const active = new BoundedMap<string, Penalty>(maxSubjects);
  return {
    get size() {
      return active.size;
    },
    throttle(subject, until, rpm, rule, now) {
      const current = active.peek(subject);
      // A throttle never weakens a suspension that is still running.
      if (current !== undefined && current.until > now && current.kind === 'suspend') {
        current.until = Math.max(current.until, until);
        return;
      }
      const intervalMs = rpm === 0 ? 0 : Math.ceil(60_000 / rpm);
      active.set(subject, {
        kind: 'throttle',
        until: Math.max(until, current?.until ?? 0),
        intervalMs,
        nextAllowedAt: now + intervalMs,
        rule,
      });
    },
    suspend(subject, until, rule) {
      const current = active.peek(subject);
      active.set(subject, {
        kind: 'suspend',
        until: Math.max(until, current?.until ?? 0),
        intervalMs: 0,
        nextAllowedAt: until,
        rule,
      });
    },
    check(subjects, now) {
      if (active.size === 0) return undefined; // the usual case: nobody is held back
      let throttled: { subject: string; p: Penalty } | undefined;
      for (const subject of subjects) {
        const p = active.peek(subject);
        if (p === undefined) continue;
        if (p.until <= now) {
          active.delete(subject);
          continue;
        }
        const retryAfterS = Math.max(1, Math.ceil((p.until - now) / 1000));
        if (p.kind === 'suspend') return { code: 'auth.key_suspended', retryAfterS, subject, rule: p.rule };
        throttled ??= { subject, p };
      }
      if (throttled === undefined) return undefined;
      const { subject, p } = throttled;
      if (p.intervalMs > 0 && now >= p.nextAllowedAt) {
        p.nextAllowedAt = now + p.intervalMs;
        return undefined;
      }
      const waitUntil = p.intervalMs > 0 ? Math.min(p.nextAllowedAt, p.until) : p.until;
      return {
        code: 'limit.adaptive_throttle',
        retryAfterS: Math.max(1, Math.ceil((waitUntil - now) / 1000)),
        subject,
        rule: p.rule,
      };
    },
  };
}
