/**
 * Throttles and suspensions across instances on a shared store. Detection stays per instance
 * (its windows are in memory: sharing them would cost a round trip per request), but what a
 * detection decides must hold everywhere: a key suspended on one instance must not be served by
 * the next. Every response is already a `security.alert` audit record (respond.ts) in the
 * shared log, holding subject, action, `until` and the throttle rate; each instance reads the
 * ones other instances wrote, once a second, and applies them to its own penalty box. No work
 * is added to the request path; a penalty reaches the other instances within about a second.
 */
import type { AuditRecord } from '../audit/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { PenaltyBox } from './penalty-box.ts';

export interface PenaltySource {
  penaltiesAfter(afterId: number, limit: number): Promise<AuditRecord[]>;
}

export interface SharedPenaltyOptions {
  readonly source: PenaltySource;
  readonly penalties: PenaltyBox;
  /** This instance's chain: its own records were applied when they were made. */
  readonly ownChain: () => string | undefined;
  readonly log: Logger;
  readonly intervalMs?: number;
  readonly now?: () => number;
}

const PAGE = 500;

export function shareAuditedPenalties(o: SharedPenaltyOptions): { poll(): Promise<number>; close(): void } {
  const now = o.now ?? Date.now;
  let after = 0;
  let failing = false;
  let busy = false;
  const apply = (r: AuditRecord): boolean => {
    if (r.chain !== undefined && r.chain === o.ownChain()) return false;
    const m = JSON.parse(r.metadata) as Record<string, unknown>;
    const until = typeof m.until === 'string' ? Date.parse(m.until) : Number.NaN;
    if (r.target === null || Number.isNaN(until) || until <= now()) return false;
    const rule = typeof m.rule === 'string' ? m.rule : 'shared';
    if (m.action === 'suspend') o.penalties.suspend(r.target, until, rule);
    else if (m.action === 'throttle' && typeof m.throttle_rpm === 'number')
      o.penalties.throttle(r.target, until, m.throttle_rpm, rule, now());
    else return false;
    return true;
  };
  const poll = async (): Promise<number> => {
    if (busy) return 0;
    busy = true;
    let applied = 0;
    try {
      for (;;) {
        const page = await o.source.penaltiesAfter(after, PAGE);
        for (const r of page) {
          if (apply(r)) applied++;
          after = Math.max(after, r.cursor ?? after);
        }
        if (page.length < PAGE) break;
      }
      if (failing)
        o.log.info(
          { event: 'threats.shared_penalties_recovered' },
          "reading other instances' throttles and suspensions again",
        );
      failing = false;
    } catch (err) {
      if (!failing)
        o.log.error(
          { event: 'threats.shared_penalties_failed', error: (err as Error).message },
          "cannot read other instances' throttles and suspensions; they apply on their own instance only until the database answers",
        );
      failing = true;
    } finally {
      busy = false;
    }
    return applied;
  };
  const timer = setInterval(() => {
    void poll();
  }, o.intervalMs ?? 1_000);
  timer.unref();
  void poll();
  return { poll, close: () => clearInterval(timer) };
}
