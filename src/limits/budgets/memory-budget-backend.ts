/**
 * In-process budget counters: exact for one instance (the embedded default), and the local
 * fallback while a shared Redis is unreachable. Same semantics as the Redis scripts, proved by
 * the same contract suite.
 */
import {
  assertBudgetItems,
  type BudgetBackend,
  BudgetBackendError,
  type BudgetItem,
  type BudgetSettleResult,
  type BudgetState,
  type BudgetTakeResult,
} from './budget-backend.ts';

interface Counter {
  spent: number;
  held: number;
  /** Highest threshold already alerted. */
  alerted: number;
  expiresAt: number;
  /** Reservation id → amount and expiry. */
  readonly holds: Map<string, { amount: number; expiresAt: number }>;
  /**
   * No hold expires before this (a lower bound: a hold extended or settled since leaves it
   * early). Holds are only scanned for expiry once it has passed, so a request does not pay
   * for every other request in flight on the same counter.
   */
  holdsScanAt: number;
}

export interface MemoryBudgetOptions {
  readonly now?: () => number;
  /** Counters kept at most (fails like an unreachable store beyond it, never evicts live spend). */
  readonly maxCounters?: number;
}

export interface MemoryBudgetBackend extends BudgetBackend {
  size(): number;
}

export function createMemoryBudgetBackend(opts: MemoryBudgetOptions = {}): MemoryBudgetBackend {
  const now = opts.now ?? Date.now;
  const maxCounters = opts.maxCounters ?? 1_000_000;
  const counters = new Map<string, Counter>();
  let closed = false;

  function counter(it: BudgetItem, t: number, create: boolean): Counter | undefined {
    let c = counters.get(it.key);
    if (c !== undefined && c.expiresAt <= t) {
      counters.delete(it.key);
      c = undefined;
    }
    if (c === undefined) {
      if (!create) return undefined;
      if (counters.size >= maxCounters) sweepCounters(t);
      if (counters.size >= maxCounters) throw new BudgetBackendError('memory budget backend is full');
      c = { spent: 0, held: 0, alerted: 0, expiresAt: t + it.ttlMs, holds: new Map(), holdsScanAt: Infinity };
      counters.set(it.key, c);
    }
    c.expiresAt = Math.max(c.expiresAt, t + it.ttlMs);
    if (t >= c.holdsScanAt) chargeExpiredHolds(c, t);
    return c;
  }

  /** An expired reservation is charged at its amount: its request may have spent it. */
  function chargeExpiredHolds(c: Counter, t: number): void {
    let next = Infinity;
    for (const [id, h] of c.holds) {
      if (h.expiresAt > t) {
        if (h.expiresAt < next) next = h.expiresAt;
        continue;
      }
      c.holds.delete(id);
      c.held -= h.amount;
      c.spent += h.amount;
    }
    c.holdsScanAt = next;
  }

  function sweepCounters(t: number): void {
    for (const [key, c] of counters) if (c.expiresAt <= t) counters.delete(key);
  }

  function state(c: Counter | undefined, it: BudgetItem, allowed: boolean): BudgetState {
    return { allowed, spentMicros: c?.spent ?? 0, heldMicros: c?.held ?? 0, limitMicros: it.limitMicros };
  }

  function check(): void {
    if (closed) throw new BudgetBackendError('memory budget backend is closed');
  }

  function take(
    id: string,
    items: readonly BudgetItem[],
    amount: number,
    ttlMs: number,
    extend: boolean,
  ): BudgetTakeResult {
    check();
    assertBudgetItems(items, amount, ttlMs);
    const t = now();
    const cs = items.map((it) => counter(it, t, true)!);
    const fits = cs.map((c, i) => c.spent + c.held + amount <= items[i]!.limitMicros);
    const allowed = fits.every(Boolean);
    if (allowed) {
      for (const c of cs) {
        const h = c.holds.get(id);
        if (h !== undefined && extend) {
          h.amount += amount;
          h.expiresAt = Math.max(h.expiresAt, t + ttlMs);
        } else if (h === undefined) {
          c.holds.set(id, { amount, expiresAt: t + ttlMs });
          if (t + ttlMs < c.holdsScanAt) c.holdsScanAt = t + ttlMs;
        } else {
          continue; // reserving an id twice holds it once
        }
        c.held += amount;
      }
    }
    return { allowed, items: cs.map((c, i) => state(c, items[i]!, fits[i]!)) };
  }

  return {
    kind: 'memory',

    async reserve(id, items, amountMicros, ttlMs) {
      return take(id, items, amountMicros, ttlMs, false);
    },

    async extend(id, items, extraMicros, ttlMs) {
      return take(id, items, extraMicros, ttlMs, true);
    },

    async settle(id, items, reservedMicros, actualMicros): Promise<BudgetSettleResult> {
      check();
      assertBudgetItems(items, actualMicros, 1);
      const t = now();
      let found = false;
      const crossed: number[][] = [];
      const states: BudgetState[] = [];
      for (const it of items) {
        const c = counter(it, t, true)!;
        const h = c.holds.get(id);
        if (h !== undefined) {
          found = true;
          c.holds.delete(id);
          c.held -= h.amount;
          c.spent += actualMicros;
        } else {
          c.spent += Math.max(0, actualMicros - reservedMicros);
        }
        const newly = it.thresholds.filter((p) => p > c.alerted && c.spent * 100 >= p * it.limitMicros);
        if (newly.length > 0) c.alerted = newly[newly.length - 1]!;
        crossed.push(newly);
        states.push(state(c, it, c.spent <= it.limitMicros));
      }
      return { outcome: found ? 'settled' : 'expired', crossed, items: states };
    },

    async peek(items) {
      check();
      const t = now();
      return items.map((it) => state(counter(it, t, false), it, true));
    },

    size: () => counters.size,

    async close() {
      closed = true;
      counters.clear();
    },
  };
}
