/**
 * The budget backend contract: atomic spend counters in integer micro-dollars, kept by memory
 * (one instance) or Redis (shared by every instance), proved by one test suite (contract.ts).
 * The stage decides which counters a request touches; a backend only keeps them, atomically.
 *
 * A counter holds what was spent (settled) and what is held by reservations in flight. A
 * request reserves its worst-case cost on every counter it touches, all-or-nothing: it passes
 * only if `spent + held + amount <= limit` on each. After the call it settles with the real
 * cost (released when nothing was spent). A reservation that is never settled (a crashed
 * instance) is charged at its amount when it expires, so a crash can never spend more than was
 * checked. A stream that outgrows its reservation extends it, under the same check.
 *
 * Threshold alerts are decided here, on settle, so that across all instances each threshold
 * fires once per counter (the counter is per period, so once per period).
 */

export interface BudgetItem {
  /** Counter identity, unique across the deployment (rule, period and subject); the backend may prefix it. */
  readonly key: string;
  /** µ$ allowed in the period. */
  readonly limitMicros: number;
  /** How long the counter must live (until its period ends, plus a margin). */
  readonly ttlMs: number;
  /** Alert percentages, ascending (settle reports the ones newly crossed). */
  readonly thresholds: readonly number[];
}

export interface BudgetState {
  readonly allowed: boolean;
  readonly spentMicros: number;
  readonly heldMicros: number;
  readonly limitMicros: number;
}

export interface BudgetTakeResult {
  /** True when every counter had room (and all now hold the amount); false: none was touched. */
  readonly allowed: boolean;
  readonly items: readonly BudgetState[];
}

export interface BudgetSettleResult {
  /** `expired`: the reservation was gone (expired and charged, or settled already): only an overrun was charged. */
  readonly outcome: 'settled' | 'expired';
  /** Per item, the thresholds this settle crossed for the first time in the counter's life. */
  readonly crossed: readonly (readonly number[])[];
  readonly items: readonly BudgetState[];
}

export interface BudgetBackend {
  readonly kind: string;
  /** A shared backend: false while it is unreachable or known stuck (read by metrics). */
  reachable?(): boolean;
  /** Reserves `amountMicros` on every item under reservation `id` (lives `ttlMs`), all-or-nothing. */
  reserve(id: string, items: readonly BudgetItem[], amountMicros: number, ttlMs: number): Promise<BudgetTakeResult>;
  /** Adds `extraMicros` to reservation `id` on every item, all-or-nothing (a stream outgrowing its estimate). */
  extend(id: string, items: readonly BudgetItem[], extraMicros: number, ttlMs: number): Promise<BudgetTakeResult>;
  /**
   * Ends reservation `id`: its hold is dropped and `actualMicros` is added to spent. When the
   * reservation is gone (expired: already charged at its amount), only `actualMicros − reservedMicros`
   * is charged if positive. Idempotent in the same way.
   */
  settle(
    id: string,
    items: readonly BudgetItem[],
    reservedMicros: number,
    actualMicros: number,
  ): Promise<BudgetSettleResult>;
  /** Current state of counters (reports, tests). */
  peek(items: readonly BudgetItem[]): Promise<BudgetState[]>;
  close(): Promise<void>;
}

/** The backend could not answer (Redis unreachable or timed out). Budgets fail closed on it. */
export class BudgetBackendError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BudgetBackendError';
  }
}

/** Largest amount a backend accepts (µ$): guards the arithmetic (2^53 in Lua doubles), not a policy. */
export const MAX_MICROS = 2 ** 52;

export function assertBudgetItems(items: readonly BudgetItem[], amount: number, ttlMs: number): void {
  if (!(Number.isSafeInteger(amount) && amount >= 0 && amount <= MAX_MICROS))
    throw new Error(`budget backend: bad amount ${amount}`);
  if (!(Number.isSafeInteger(ttlMs) && ttlMs >= 1)) throw new Error(`budget backend: bad ttl ${ttlMs}`);
  for (const it of items) {
    if (it.key === '') throw new Error('budget backend: empty key');
    if (!(Number.isSafeInteger(it.limitMicros) && it.limitMicros >= 1 && it.limitMicros <= MAX_MICROS))
      throw new Error(`budget backend: bad limit ${it.limitMicros}`);
    if (!(Number.isSafeInteger(it.ttlMs) && it.ttlMs >= 1))
      throw new Error(`budget backend: bad counter ttl ${it.ttlMs}`);
  }
}
