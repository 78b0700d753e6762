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

/**
 * A counter's stored state: its TAT and the interval it was charged at. A rule's counter key does
 * not include its numbers, so after a limit is edited (config reload, restart) the same counter
 * is read with a new interval. `gcraCarryOver` keeps the *units* already used: the debt
 * (TAT − now) is converted from the old interval to the new one. A limit update therefore never
 * resets a counter nor grants fresh allowance: lowering a limit below what was just used refuses
 * until the excess drains at the new rate; raising it leaves the used units counted.
 */
export interface GcraCounter {
  readonly tat: number;
  readonly intervalMs: number;
}

/** The TAT of `stored` expressed at `intervalMs` (unchanged when the interval is the same or the debt is paid). */
export function gcraCarryOver(stored: GcraCounter | undefined, now: number, intervalMs: number): number | undefined {
  if (stored === undefined) return undefined;
  if (stored.tat <= now || stored.intervalMs === intervalMs) return stored.tat;
  return now + ((stored.tat - now) / stored.intervalMs) * intervalMs;
}

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
