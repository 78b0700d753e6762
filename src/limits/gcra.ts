/**
 * GCRA (generic cell rate algorithm), the "virtual scheduling" form: a counter is one number,
 * the theoretical arrival time (TAT) of the next unit at the sustained rate. A take of `cost`
 * units moves TAT forward by cost × interval; it conforms when the new TAT is no further than
 * `capacity × interval` ahead of now (the burst tolerance). There are no windows, so nothing
 * resets at a boundary: in any span of t ms at most capacity + t / interval units pass.
 *
 * The memory backend calls these functions; the Redis scripts (redis/scripts.ts) implement the
 * same arithmetic in Lua, and the contract suite checks both behave alike.
 */

/** Float slack so that exact multiples (3 × 333.33… ms) still fit. */
export const GCRA_EPSILON_MS = 1e-6;

export interface GcraParams {
  readonly intervalMs: number;
  readonly capacity: number;
  readonly cost: number;
}

export interface GcraDecision {
  readonly allowed: boolean;
  /** The TAT to store when allowed (unchanged state when refused). */
  readonly newTat: number;
  readonly remaining: number;
  readonly resetMs: number;
  readonly retryAfterMs: number | null;
}

export function gcraDecide(tat: number | undefined, now: number, p: GcraParams): GcraDecision {
  const base = tat === undefined || tat < now ? now : tat;
  const tolerance = p.capacity * p.intervalMs;
  const newTat = base + p.cost * p.intervalMs;
  if (newTat - now <= tolerance + GCRA_EPSILON_MS) {
    return {
      allowed: true,
      newTat,
      remaining: unitsLeft(tolerance - (newTat - now), p.intervalMs),
      resetMs: Math.ceil(newTat - now),
      retryAfterMs: null,
    };
  }
  return {
    allowed: false,
    newTat: base,
    remaining: unitsLeft(tolerance - (base - now), p.intervalMs),
    resetMs: Math.ceil(base - now),
    retryAfterMs: p.cost > p.capacity ? null : Math.max(1, Math.ceil(newTat - tolerance - now)),
  };
}

/** The TAT after charging (delta > 0) or refunding (delta < 0) units; a refund never goes below now. */
export function gcraAdjust(tat: number | undefined, now: number, intervalMs: number, delta: number): number {
  const base = tat === undefined || tat < now ? now : tat;
  return Math.max(now, base + delta * intervalMs);
}

function unitsLeft(slackMs: number, intervalMs: number): number {
  return Math.max(0, Math.floor(slackMs / intervalMs + 1e-9));
}
