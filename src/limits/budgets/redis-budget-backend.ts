/**
 * Redis budget backend (node-redis): spend shared by every gateway instance. Each operation is
 * one Lua script (EVALSHA), atomic on the server, one round trip. Like the limit backend, the
 * client never queues commands while disconnected and every command has the gateway's own
 * deadline (command-guard.ts), so an unreachable or frozen Redis fails within `timeoutMs` with
 * BudgetBackendError (the stage then fails closed, or counts locally by policy) instead of
 * hanging requests. The URL (it may hold a password) is never logged.
 */

import type { Logger } from '../../observability/logger.ts';
import { assertRedisOptions, guardedScriptedClient, keyedScript, scriptedLifecycle } from '../redis/scripted-client.ts';
import {
  assertBudgetItems,
  type BudgetBackend,
  BudgetBackendError,
  type BudgetItem,
  type BudgetSettleResult,
  type BudgetState,
  type BudgetTakeResult,
} from './budget-backend.ts';
import { PEEK_SCRIPT, RESERVE_SCRIPT, SETTLE_SCRIPT } from './redis-scripts.ts';

export interface RedisBudgetOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly timeoutMs: number;
  readonly log: Logger;
}

const SCRIPTS = {
  budgetReserve: keyedScript(RESERVE_SCRIPT),
  budgetSettle: keyedScript(SETTLE_SCRIPT),
  budgetPeek: keyedScript(PEEK_SCRIPT),
};

export interface RedisBudgetBackend extends BudgetBackend {
  ready(): Promise<void>;
  deleteAllKeys(): Promise<number>;
}

export function createRedisBudgetBackend(opts: RedisBudgetOptions): RedisBudgetBackend {
  const conn = { url: opts.url, timeoutMs: opts.timeoutMs, log: opts.log, purpose: 'budgets' };
  assertRedisOptions(conn);
  const { keyPrefix } = opts;

  const guard = guardedScriptedClient(conn, SCRIPTS);
  const life = scriptedLifecycle(
    guard,
    keyPrefix,
    'budget',
    (message, cause) => new BudgetBackendError(message, { cause }),
  );
  const run = life.run;

  const keysOf = (items: readonly BudgetItem[]): string[] =>
    items.flatMap((it) => {
      const c = `${keyPrefix}budget:${it.key}`;
      return [c, `${c}:h`, `${c}:x`];
    });

  async function take(
    id: string,
    items: readonly BudgetItem[],
    amount: number,
    ttlMs: number,
    extend: boolean,
  ): Promise<BudgetTakeResult> {
    assertBudgetItems(items, amount, ttlMs);
    const args = [id, String(amount), String(ttlMs), extend ? '1' : '0'];
    for (const it of items) args.push(String(it.limitMicros), String(it.ttlMs));
    const reply = ints(
      await run('reserve', (client) => client.budgetReserve(keysOf(items), args)),
      1 + items.length * 3,
    );
    return {
      allowed: reply[0] === 1,
      items: items.map((it, i) => ({
        allowed: reply[1 + i * 3] === 1,
        spentMicros: reply[2 + i * 3]!,
        heldMicros: reply[3 + i * 3]!,
        limitMicros: it.limitMicros,
      })),
    };
  }

  return {
    kind: 'redis',
    reachable: () => guard.usable(),

    ready: life.ready,
    deleteAllKeys: life.deleteAllKeys,
    close: life.close,

    reserve: (id, items, amountMicros, ttlMs) => take(id, items, amountMicros, ttlMs, false),
    extend: (id, items, extraMicros, ttlMs) => take(id, items, extraMicros, ttlMs, true),

    async settle(id, items, reservedMicros, actualMicros): Promise<BudgetSettleResult> {
      assertBudgetItems(items, actualMicros, 1);
      const args = [id, String(reservedMicros), String(actualMicros)];
      for (const it of items)
        args.push(String(it.limitMicros), String(it.ttlMs), String(it.thresholds.length), ...it.thresholds.map(String));
      const reply = ints(await run('settle', (client) => client.budgetSettle(keysOf(items), args)), undefined);
      let o = 1;
      const crossed: number[][] = [];
      const states: BudgetState[] = [];
      for (const it of items) {
        const spent = reply[o]!;
        const held = reply[o + 1]!;
        const nc = reply[o + 2]!;
        crossed.push(reply.slice(o + 3, o + 3 + nc));
        states.push({
          allowed: spent <= it.limitMicros,
          spentMicros: spent,
          heldMicros: held,
          limitMicros: it.limitMicros,
        });
        o += 3 + nc;
      }
      if (o !== reply.length) throw new BudgetBackendError('Redis answered a budget script with an unexpected reply');
      return { outcome: reply[0] === 1 ? 'settled' : 'expired', crossed, items: states };
    },

    async peek(items) {
      if (items.length === 0) return [];
      const reply = ints(await run('peek', (client) => client.budgetPeek(keysOf(items), [])), items.length * 2);
      return items.map((it, i) => ({
        allowed: true,
        spentMicros: reply[i * 2]!,
        heldMicros: reply[i * 2 + 1]!,
        limitMicros: it.limitMicros,
      }));
    },
  };
}

function ints(reply: unknown, length: number | undefined): number[] {
  if (
    !Array.isArray(reply) ||
    (length !== undefined && reply.length !== length) ||
    !reply.every((v) => typeof v === 'number')
  ) {
    throw new BudgetBackendError('Redis answered a budget script with an unexpected reply');
  }
  return reply as number[];
}
