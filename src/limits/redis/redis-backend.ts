/**
 * Redis limit backend (node-redis): shared counters for many gateway instances. Each operation
 * is one Lua script (EVALSHA, loaded on first use), so it is atomic on the server and costs one
 * round trip; the scripts use the server's clock. Keys live under a configurable prefix.
 *
 * The client never queues commands while disconnected and every command has the gateway's own
 * deadline (`timeoutMs`, command-guard.ts): when Redis is unreachable or stops answering, an
 * operation fails within the deadline with LimitBackendError (the stage then fails closed, or
 * falls back to local counters by policy) instead of hanging requests.
 */

import type { Logger } from '../../observability/logger.ts';
import {
  type AcquireResult,
  type AdmitResult,
  assertRateItems,
  assertSlotItems,
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
import { assertRedisOptions, guardedScriptedClient, keyedScript, scriptedLifecycle } from './scripted-client.ts';
import {
  ACQUIRE_SCRIPT,
  ADMIT_SCRIPT,
  FINISH_SCRIPT,
  RELEASE_SCRIPT,
  RENEW_SCRIPT,
  SETTLE_SCRIPT,
  TAKE_SCRIPT,
} from './scripts.ts';

export interface RedisBackendOptions {
  /** redis:// or rediss:// URL; may hold a password, so it is never logged. */
  readonly url: string;
  /** Prepended to every key, e.g. `portcullis:`. */
  readonly keyPrefix: string;
  /** Deadline of every command, and the connect timeout (ms). */
  readonly timeoutMs: number;
  readonly log: Logger;
}

const SCRIPTS = {
  limitTake: keyedScript(TAKE_SCRIPT),
  limitSettle: keyedScript(SETTLE_SCRIPT),
  limitAcquire: keyedScript(ACQUIRE_SCRIPT),
  limitRenew: keyedScript(RENEW_SCRIPT),
  limitRelease: keyedScript(RELEASE_SCRIPT),
  limitAdmit: keyedScript(ADMIT_SCRIPT),
  limitFinish: keyedScript(FINISH_SCRIPT),
};

export interface RedisBackend extends LimitBackend {
  /** Resolves once connected (tests); requests never wait for it. */
  ready(): Promise<void>;
  /** Deletes every key under the prefix (tests clean up with it). */
  deleteAllKeys(): Promise<number>;
}

export function createRedisBackend(opts: RedisBackendOptions): RedisBackend {
  const conn = { url: opts.url, timeoutMs: opts.timeoutMs, log: opts.log, purpose: 'limits' };
  assertRedisOptions(conn);
  const { keyPrefix } = opts;

  const guard = guardedScriptedClient(conn, SCRIPTS);
  const life = scriptedLifecycle(
    guard,
    keyPrefix,
    'limit',
    (message, cause) => new LimitBackendError(message, { cause }),
  );
  const run = life.run;

  const k = (key: string): string => keyPrefix + key;

  // Keys and arguments of each script (also combined by the admit and finish scripts).
  function takeCall(items: readonly RateItem[], reservation?: ReservationSpec): { keys: string[]; args: string[] } {
    const keys = items.map((it) => k(`rate:${it.key}`));
    const args = [String(items.length)];
    for (const it of items) args.push(num(it.intervalMs), num(it.capacity), num(it.cost));
    if (reservation) {
      keys.push(k(`res:${reservation.id}`));
      args.push(num(reservation.amount), String(Math.ceil(reservation.ttlMs)));
    }
    return { keys, args };
  }
  function settleCall(
    id: string,
    items: readonly SettleItem[],
    reserved: number,
    actual: number,
  ): { keys: string[]; args: string[] } {
    return {
      keys: [k(`res:${id}`), ...items.map((it) => k(`rate:${it.key}`))],
      args: [num(reserved), num(actual), ...items.map((it) => num(it.intervalMs))],
    };
  }
  function acquireCall(items: readonly SlotItem[], leaseId: string, ttlMs: number): { keys: string[]; args: string[] } {
    return {
      keys: items.map((it) => k(`slots:${it.key}`)),
      args: [leaseId, String(ttlMs), ...items.map((it) => String(it.max))],
    };
  }

  return {
    kind: 'redis',
    reachable: () => guard.usable(),

    ready: life.ready,
    deleteAllKeys: life.deleteAllKeys,
    close: life.close,

    async admit(slots, leaseId, ttlMs, rates, reservation): Promise<AdmitResult> {
      assertSlotItems(slots, ttlMs);
      assertRateItems(rates);
      const acq = acquireCall(slots, leaseId, ttlMs);
      const tk = rates.length > 0 ? takeCall(rates, reservation) : { keys: [], args: [] };
      const reply: unknown = await run('admit', (client) =>
        client.limitAdmit([...acq.keys, ...tk.keys], [String(slots.length), ...acq.args, ...tk.args]),
      );
      if (!Array.isArray(reply) || reply.length !== 2)
        throw new LimitBackendError('Redis answered a limit script with an unexpected reply');
      const granted: AcquireResult = slots.length > 0 ? acquireResult(slots, reply[0]) : { allowed: true, items: [] };
      const taken = granted.allowed && rates.length > 0 ? takeResult(rates, reply[1]) : undefined;
      return { allowed: granted.allowed && (taken?.allowed ?? true), slots: granted, rates: taken };
    },

    async finish(settle, slotKeys, leaseId): Promise<SettleOutcome | undefined> {
      const st =
        settle === undefined
          ? { keys: [], args: [] }
          : settleCall(settle.id, settle.items, settle.reserved, settle.actual);
      const keys = [...st.keys, ...slotKeys.map((key) => k(`slots:${key}`))];
      if (keys.length === 0) return undefined;
      const reply = Number(
        await run('finish', (client) => client.limitFinish(keys, [String(st.keys.length), ...st.args, leaseId])),
      );
      return reply < 0 ? undefined : reply === 1 ? 'settled' : 'expired';
    },

    async take(items: readonly RateItem[], reservation?: ReservationSpec): Promise<TakeResult> {
      assertRateItems(items);
      const { keys, args } = takeCall(items, reservation);
      return takeResult(items, await run('take', (client) => client.limitTake(keys, args)));
    },

    async settle(id: string, items: readonly SettleItem[], reserved: number, actual: number): Promise<SettleOutcome> {
      const { keys, args } = settleCall(id, items, reserved, actual);
      const reply = await run('settle', (client) => client.limitSettle(keys, args));
      return Number(reply) === 1 ? 'settled' : 'expired';
    },

    async acquire(items: readonly SlotItem[], leaseId: string, ttlMs: number): Promise<AcquireResult> {
      assertSlotItems(items, ttlMs);
      const { keys, args } = acquireCall(items, leaseId, ttlMs);
      return acquireResult(items, await run('acquire', (client) => client.limitAcquire(keys, args)));
    },

    async renew(keys: readonly string[], leaseId: string, ttlMs: number): Promise<boolean> {
      if (keys.length === 0) return true;
      const reply = await run('renew', (client) =>
        client.limitRenew(
          keys.map((key) => k(`slots:${key}`)),
          [leaseId, String(ttlMs)],
        ),
      );
      return Number(reply) === 1;
    },

    async release(keys: readonly string[], leaseId: string): Promise<void> {
      if (keys.length === 0) return;
      await run('release', (client) =>
        client.limitRelease(
          keys.map((key) => k(`slots:${key}`)),
          [leaseId],
        ),
      );
    },
  };
}

function takeResult(items: readonly RateItem[], raw: unknown): TakeResult {
  const reply = ints(raw, 1 + items.length * 4);
  const states: RateState[] = items.map((_, i) => {
    const o = 1 + i * 4;
    const retry = reply[o + 3]!;
    return {
      allowed: reply[o] === 1,
      remaining: reply[o + 1]!,
      resetMs: reply[o + 2]!,
      retryAfterMs: retry < 0 ? null : retry,
    };
  });
  // A refused item reports retry -1 only when it can never fit; an allowed one has none.
  return { allowed: reply[0] === 1, items: states };
}

function acquireResult(items: readonly SlotItem[], raw: unknown): AcquireResult {
  const reply = ints(raw, 1 + items.length * 2);
  return {
    allowed: reply[0] === 1,
    items: items.map((_, i) => ({ allowed: reply[1 + i * 2] === 1, inUse: reply[2 + i * 2]! })),
  };
}

function num(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toPrecision(17);
}

function ints(reply: unknown, length: number): number[] {
  if (!Array.isArray(reply) || reply.length !== length || !reply.every((v) => typeof v === 'number')) {
    throw new LimitBackendError('Redis answered a limit script with an unexpected reply');
  }
  return reply as number[];
}
