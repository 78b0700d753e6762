/**
 * Budget periods in UTC: the calendar day, the ISO week (from Monday 00:00) and the calendar
 * month, or a custom period (a start time and a length, repeating). Every instance computes
 * the same period from its clock, so counters of one period share one key.
 */
import type { BudgetPeriod } from './config-types.ts';

const DAY_MS = 86_400_000;

export interface PeriodWindow {
  readonly startMs: number;
  readonly endMs: number;
  /** Stable id for counter keys: the start as a compact ISO time. */
  readonly id: string;
}

export function periodAt(period: BudgetPeriod, nowMs: number): PeriodWindow {
  let start: number;
  let end: number;
  if (period.kind === 'custom') {
    // Before the first start, the period that ends at it (the budget already applies).
    const n = Math.floor((nowMs - period.startMs) / period.lengthMs);
    start = period.startMs + n * period.lengthMs;
    end = start + period.lengthMs;
  } else if (period.kind === 'day') {
    start = Math.floor(nowMs / DAY_MS) * DAY_MS;
    end = start + DAY_MS;
  } else if (period.kind === 'week') {
    const day = Math.floor(nowMs / DAY_MS) * DAY_MS;
    const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
    start = day - weekday * DAY_MS;
    end = start + 7 * DAY_MS;
  } else {
    const d = new Date(nowMs);
    start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  return { startMs: start, endMs: end, id: new Date(start).toISOString().replace(/[-:]|\.000/g, '') };
}
