/**
 * In-process limit backend: the embedded default, and the local fallback when Redis is down.
 * Counters live in maps that are swept of finished state (a full GCRA bucket, an expired lease
 * or reservation is the same as no entry), and bounded: past `maxEntries` live entries the
 * backend refuses to grow and fails like an unreachable store, so a flood of distinct keys
 * cannot exhaust memory and cannot reset anyone's counters either.
 */
import { type GcraCounter, gcraAdjust, gcraCarryOver, gcraDecide } from '../gcra.ts';
import {
  type AcquireResult,
  assertRateItems,
  assertSlotItems,
  composedAdmit,
  composedFinish,
  type LimitBackend,
  LimitBackendError,
  type RateItem,
  type RateState,
  type ReservationSpec,
  type SettleItem,
  type SettleOutcome,
  type SlotItem,
  type TakeResult,
} from '../limit-backend.ts';

export interface MemoryBackendOptions {
  /** ms clock; injected by tests. Default Date.now. */
  readonly now?: () => number;
  /** Most live entries (counters + reservations + lease sets) held at once. Default 1,000,000. */
  readonly maxEntries?: number;
  /** How often finished entries are swept. Default 10 s; 0 disables the timer (tests sweep by hand). */
  readonly sweepIntervalMs?: number;
}

export interface MemoryBackend extends LimitBackend {
  /** Removes finished entries now; returns how many are left. */
  sweep(): number;
  /** Live entries (for tests and metrics). */
  size(): number;
}

/**
 * The leases held on one concurrency slot key: lease id → expiry. `scanAt` is a lower bound on
 * the earliest expiry (a lease renewed or released since leaves it early), so expired leases are
 * looked for only once it has passed, not on every acquire: with many requests in flight on one
 * key (a global or team concurrency limit) each acquire would otherwise walk all of them.
 */
interface LeaseSet {
  readonly held: Map<string, number>;
  scanAt: number;
}

/** Drops expired leases when the earliest may have expired; returns how many are left. */
function dropExpiredLeases(set: LeaseSet, t: number): number {
  if (t < set.scanAt) return set.held.size;
  let next = Infinity;
  for (const [lease, exp] of set.held) {
    if (exp <= t) set.held.delete(lease);
    else if (exp < next) next = exp;
  }
  set.scanAt = next;
  return set.held.size;
}

export function createMemoryBackend(opts: MemoryBackendOptions = {}): MemoryBackend {
  const now = opts.now ?? Date.now;
  const maxEntries = opts.maxEntries ?? 1_000_000;
  if (!(Number.isSafeInteger(maxEntries) && maxEntries >= 1))
    throw new Error('memory limit backend: maxEntries must be a positive integer');
  const sweepIntervalMs = opts.sweepIntervalMs ?? 10_000;
  if (!(Number.isSafeInteger(sweepIntervalMs) && sweepIntervalMs >= 0))
    throw new Error('memory limit backend: sweepIntervalMs must be >= 0');

  const tats = new Map<string, GcraCounter>();
  const reservations = new Map<string, { readonly reserved: number; readonly expiresAt: number }>();
  const leases = new Map<string, LeaseSet>();
  let closed = false;

  const size = (): number => tats.size + reservations.size + leases.size;

  function sweep(): number {
    const t = now();
    for (const [k, c] of tats) if (c.tat <= t) tats.delete(k);
    for (const [id, r] of reservations) if (r.expiresAt <= t) reservations.delete(id);
    for (const [k, set] of leases) if (dropExpiredLeases(set, t) === 0) leases.delete(k);
    return size();
  }

  /** Room for `extra` new entries, sweeping once before refusing. */
  function ensureRoom(extra: number): void {
    if (size() + extra <= maxEntries) return;
    if (sweep() + extra <= maxEntries) return;
    throw new LimitBackendError(`memory limit backend is full (${maxEntries} live entries)`);
  }

  function assertOpen(): void {
    if (closed) throw new LimitBackendError('memory limit backend is closed');
  }

  const timer = sweepIntervalMs > 0 ? setInterval(sweep, sweepIntervalMs) : undefined;
  timer?.unref();

  function liveLeases(key: string, t: number): Map<string, number> | undefined {
    const set = leases.get(key);
    if (!set) return undefined;
    if (dropExpiredLeases(set, t) === 0) {
      leases.delete(key);
      return undefined;
    }
    return set.held;
  }

  const backend: MemoryBackend = {
    kind: 'memory',
    admit: (slots, leaseId, ttlMs, rates, reservation) =>
      composedAdmit(backend, slots, leaseId, ttlMs, rates, reservation),
    finish: (settle, slotKeys, leaseId) => composedFinish(backend, settle, slotKeys, leaseId),
    sweep,
    size,

    async take(items: readonly RateItem[], reservation?: ReservationSpec): Promise<TakeResult> {
      assertOpen();
      assertRateItems(items);
      const t = now();
      const decisions = items.map((it) => gcraDecide(gcraCarryOver(tats.get(it.key), t, it.intervalMs), t, it));
      const allowed = decisions.every((d) => d.allowed);
      if (allowed) {
        ensureRoom(items.filter((it) => !tats.has(it.key)).length + (reservation ? 1 : 0));
        items.forEach((it, i) => {
          tats.set(it.key, { tat: decisions[i]!.newTat, intervalMs: it.intervalMs });
        });
        if (reservation)
          reservations.set(reservation.id, { reserved: reservation.amount, expiresAt: t + reservation.ttlMs });
      }
      const states: RateState[] = decisions.map((d) => ({
        allowed: d.allowed,
        remaining: d.remaining,
        resetMs: d.resetMs,
        retryAfterMs: d.retryAfterMs,
      }));
      return { allowed, items: states };
    },

    async settle(id: string, items: readonly SettleItem[], reserved: number, actual: number): Promise<SettleOutcome> {
      assertOpen();
      const t = now();
      const rec = reservations.get(id);
      const found = rec !== undefined && rec.expiresAt > t;
      reservations.delete(id);
      const delta = found ? actual - rec.reserved : Math.max(0, actual - reserved);
      if (delta !== 0) {
        ensureRoom(items.filter((it) => !tats.has(it.key)).length);
        for (const it of items) {
          const tat = gcraAdjust(gcraCarryOver(tats.get(it.key), t, it.intervalMs), t, it.intervalMs, delta);
          if (tat <= t) tats.delete(it.key);
          else tats.set(it.key, { tat, intervalMs: it.intervalMs });
        }
      }
      return found ? 'settled' : 'expired';
    },

    async acquire(items: readonly SlotItem[], leaseId: string, ttlMs: number): Promise<AcquireResult> {
      assertOpen();
      assertSlotItems(items, ttlMs);
      const t = now();
      const states = items.map((it) => {
        const set = liveLeases(it.key, t);
        const held = set?.has(leaseId) ?? false;
        const inUse = set?.size ?? 0;
        return held || inUse < it.max ? { allowed: true, inUse: held ? inUse : inUse + 1 } : { allowed: false, inUse };
      });
      const allowed = states.every((s) => s.allowed);
      if (allowed) {
        ensureRoom(items.filter((it) => !leases.has(it.key)).length);
        for (const it of items) {
          let set = leases.get(it.key);
          if (!set) {
            set = { held: new Map(), scanAt: Infinity };
            leases.set(it.key, set);
          }
          set.held.set(leaseId, t + ttlMs);
          if (t + ttlMs < set.scanAt) set.scanAt = t + ttlMs;
        }
      }
      return {
        allowed,
        items: allowed ? states : states.map((s) => (s.allowed ? { allowed: true, inUse: s.inUse - 1 } : s)),
      };
    },

    async renew(keys: readonly string[], leaseId: string, ttlMs: number): Promise<boolean> {
      assertOpen();
      const t = now();
      let all = true;
      for (const key of keys) {
        const set = liveLeases(key, t);
        if (set?.has(leaseId)) set.set(leaseId, t + ttlMs);
        else all = false;
      }
      return all;
    },

    async release(keys: readonly string[], leaseId: string): Promise<void> {
      assertOpen();
      for (const key of keys) {
        const set = leases.get(key);
        if (!set) continue;
        set.held.delete(leaseId);
        if (set.held.size === 0) leases.delete(key);
      }
    },

    async close(): Promise<void> {
      closed = true;
      if (timer) clearInterval(timer);
      tats.clear();
      reservations.clear();
      leases.clear();
    },
  };
  return backend;
}
