/**
 * The limit backend contract: the atomic counter operations every backend (memory, Redis)
 * implements the same way, proved by one test suite (contract.ts). The stage decides *which*
 * counters a request touches; a backend only keeps them, atomically.
 *
 * - Rates (requests and tokens) use GCRA, the generic cell rate algorithm: one timestamp per
 *   counter (the theoretical arrival time), no windows, so there is no boundary at which a
 *   client can spend two windows' worth at once. In any span of t ms at most
 *   `capacity + t / intervalMs` units pass.
 * - Tokens are reserved before the upstream call (an estimate) and settled after it with the
 *   real usage: the difference is charged or refunded. A reservation that is never settled
 *   (a crashed instance) stays charged at its estimate, which drains like any usage; its record
 *   expires after `ttlMs`, after which a late settle can still charge more but not refund.
 * - Concurrency slots are leases with a TTL, renewed while a request runs, so a crashed
 *   instance cannot hold slots forever.
 *
 * Every operation is all-or-nothing across the counters it is given: a refused take consumes
 * nothing, and a refused acquire holds no slot.
 */

/** One GCRA counter touched by a take. */
export interface RateItem {
  /** Counter identity, unique across the deployment (the backend may add its own prefix). */
  readonly key: string;
  /** ms per unit: period / limit (e.g. 60000 / 600 = 100 ms per request). */
  readonly intervalMs: number;
  /** How many units may be taken at once (burst), ≥ 1. */
  readonly capacity: number;
  /** Units this request takes (1 for a request, the token estimate for tokens), ≥ 0. */
  readonly cost: number;
}

/** The state of one counter after a take (or, when refused, as it stands). */
export interface RateState {
  readonly allowed: boolean;
  /** Units that could still be taken right now. */
  readonly remaining: number;
  /** ms until the counter is back to full capacity. */
  readonly resetMs: number;
  /** When refused: ms until this cost would fit; null when it never can (cost > capacity). */
  readonly retryAfterMs: number | null;
}

export interface TakeResult {
  /** True when every item was allowed (and all were consumed); false: none was consumed. */
  readonly allowed: boolean;
  /** One state per item, in the order given. */
  readonly items: readonly RateState[];
}

/** A token reservation to record with a take, so that `settle` can refund it later. */
export interface ReservationSpec {
  /** Unique per request (a UUID). */
  readonly id: string;
  /** The units reserved (the token estimate), the same as the token items' cost. */
  readonly amount: number;
  /** After this, the reservation record is gone: settle may still charge, but not refund. */
  readonly ttlMs: number;
}

/** A counter that a settle adjusts (the token items of the take, with the same key and interval). */
export interface SettleItem {
  readonly key: string;
  readonly intervalMs: number;
}

export type SettleOutcome =
  /** The reservation was found: the difference was charged or refunded. */
  | 'settled'
  /** The record had expired (or was settled already): only an overrun was charged. */
  | 'expired';

export interface SlotItem {
  readonly key: string;
  /** Concurrent requests allowed on this counter, ≥ 1. */
  readonly max: number;
}

export interface SlotState {
  readonly allowed: boolean;
  /** Slots in use, this lease included when allowed. */
  readonly inUse: number;
}

export interface AcquireResult {
  readonly allowed: boolean;
  readonly items: readonly SlotState[];
}

/** What `admit` did: slots first; rates only when the slots were granted. */
export interface AdmitResult {
  /** True when every slot and every rate was granted (and all are now held/consumed). */
  readonly allowed: boolean;
  readonly slots: AcquireResult;
  /** Undefined when the slots were refused (the rates were not tried) or there were no rates. */
  readonly rates: TakeResult | undefined;
}

/** The settle part of `finish`. */
export interface SettleSpec {
  readonly id: string;
  readonly items: readonly SettleItem[];
  readonly reserved: number;
  readonly actual: number;
}

export interface LimitBackend {
  /** `memory` or `redis`; shown in logs. */
  readonly kind: string;
  /** A shared backend: false while it is unreachable or known stuck (read by metrics). */
  reachable?(): boolean;
  /**
   * What a request needs before its upstream call, in one operation (one round trip on Redis):
   * `acquire(slots)`, then, if granted, `take(rates, reservation)`; when the take is refused the
   * slots are given back, so a refused admit holds and consumes nothing.
   */
  admit(
    slots: readonly SlotItem[],
    leaseId: string,
    ttlMs: number,
    rates: readonly RateItem[],
    reservation?: ReservationSpec,
  ): Promise<AdmitResult>;
  /** What a request does when it ends, in one operation: `settle` (when given), then `release(slotKeys)`. */
  finish(
    settle: SettleSpec | undefined,
    slotKeys: readonly string[],
    leaseId: string,
  ): Promise<SettleOutcome | undefined>;
  /**
   * GCRA across all items, all-or-nothing. With `reservation`, its amount is recorded under its
   * id when the take is allowed (the caller passes the same amount again to `settle`).
   */
  take(items: readonly RateItem[], reservation?: ReservationSpec): Promise<TakeResult>;
  /**
   * Settles reservation `id` that reserved `reserved` units on `items`: adds `actual − reserved`
   * to each (a refund never frees more than is still charged). Idempotent: a second settle of the
   * same id only charges an overrun, like an expired one.
   */
  settle(id: string, items: readonly SettleItem[], reserved: number, actual: number): Promise<SettleOutcome>;
  /** Takes one slot on every item for `leaseId`, all-or-nothing; the lease lasts `ttlMs` unless renewed. */
  acquire(items: readonly SlotItem[], leaseId: string, ttlMs: number): Promise<AcquireResult>;
  /** Extends a held lease; false when it had already expired (the slot may be gone). */
  renew(keys: readonly string[], leaseId: string, ttlMs: number): Promise<boolean>;
  /** Frees the lease's slots (no error when already expired). */
  release(keys: readonly string[], leaseId: string): Promise<void>;
  close(): Promise<void>;
}

/** The backend could not answer (Redis unreachable, timed out, or full). Limits fail closed on it. */
export class LimitBackendError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LimitBackendError';
  }
}

/** Largest interval/capacity/cost a backend accepts: guards the arithmetic, not a policy. */
export const MAX_UNITS = 1e12;

/** Rejects malformed items before they reach a backend (a bug, not a client error). */
export function assertRateItems(items: readonly RateItem[]): void {
  for (const it of items) {
    if (it.key === '') throw new Error('limit backend: empty key');
    if (!(it.intervalMs > 0 && it.intervalMs <= MAX_UNITS))
      throw new Error(`limit backend: bad intervalMs ${it.intervalMs}`);
    if (!(it.capacity >= 1 && it.capacity <= MAX_UNITS)) throw new Error(`limit backend: bad capacity ${it.capacity}`);
    if (!(it.cost >= 0 && it.cost <= MAX_UNITS)) throw new Error(`limit backend: bad cost ${it.cost}`);
  }
}

export function assertSlotItems(items: readonly SlotItem[], ttlMs: number): void {
  if (!(Number.isSafeInteger(ttlMs) && ttlMs >= 1)) throw new Error(`limit backend: bad lease ttl ${ttlMs}`);
  for (const it of items) {
    if (it.key === '') throw new Error('limit backend: empty key');
    if (!(Number.isSafeInteger(it.max) && it.max >= 1)) throw new Error(`limit backend: bad slot max ${it.max}`);
  }
}

/** `admit` from the separate operations, for backends where a round trip costs nothing (memory). */
export async function composedAdmit(
  b: Pick<LimitBackend, 'acquire' | 'take' | 'release'>,
  slots: readonly SlotItem[],
  leaseId: string,
  ttlMs: number,
  rates: readonly RateItem[],
  reservation?: ReservationSpec,
): Promise<AdmitResult> {
  const granted: AcquireResult =
    slots.length > 0 ? await b.acquire(slots, leaseId, ttlMs) : { allowed: true, items: [] };
  if (!granted.allowed) return { allowed: false, slots: granted, rates: undefined };
  if (rates.length === 0) return { allowed: true, slots: granted, rates: undefined };
  let taken: TakeResult;
  try {
    taken = await b.take(rates, reservation);
  } catch (err) {
    if (slots.length > 0)
      await b
        .release(
          slots.map((s) => s.key),
          leaseId,
        )
        .catch(() => undefined);
    throw err;
  }
  if (!taken.allowed && slots.length > 0)
    await b.release(
      slots.map((s) => s.key),
      leaseId,
    );
  return { allowed: taken.allowed, slots: granted, rates: taken };
}

/** `finish` from the separate operations. */
export async function composedFinish(
  b: Pick<LimitBackend, 'settle' | 'release'>,
  settle: SettleSpec | undefined,
  slotKeys: readonly string[],
  leaseId: string,
): Promise<SettleOutcome | undefined> {
  let outcome: SettleOutcome | undefined;
  try {
    if (settle !== undefined) outcome = await b.settle(settle.id, settle.items, settle.reserved, settle.actual);
  } finally {
    if (slotKeys.length > 0) await b.release(slotKeys, leaseId);
  }
  return outcome;
}
