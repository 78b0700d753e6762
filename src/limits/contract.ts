/**
 * The behaviour every LimitBackend must have. Each backend's test file calls
 * `runLimitBackendContract(name, make)`; `make` gives a fresh backend with its own key space,
 * an `advance(ms)` that lets that much time pass (a fake clock for memory, a real wait for
 * Redis, whose scripts read the server clock), and a `cleanup` that removes its keys and
 * closes it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { LimitBackend, RateItem } from './limit-backend.ts';

export interface BackendUnderTest {
  readonly backend: LimitBackend;
  readonly advance: (ms: number) => Promise<void>;
  /** Removes the backend's data and closes it. */
  readonly cleanup: () => Promise<void>;
}

export function runLimitBackendContract(name: string, make: () => Promise<BackendUnderTest>): void {
  describe(`LimitBackend contract: ${name}`, () => {
    let h: BackendUnderTest;
    let b: LimitBackend;
    beforeEach(async () => {
      h = await make();
      b = h.backend;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    // 3 per 3 s, all at once at most: slow enough that test latency does not refill a unit.
    const req = (key = 'k'): RateItem => ({ key, intervalMs: 1000, capacity: 3, cost: 1 });
    // 1000 tokens per minute = 60 ms per token; capacity one minute's worth.
    const tokens = (cost: number, key = 't'): RateItem => ({ key, intervalMs: 60, capacity: 1000, cost });

    describe('rates (GCRA)', () => {
      it('lets a burst of `capacity` through, counts down, then refuses with a retry-after within one interval', async () => {
        const remaining: number[] = [];
        for (let i = 0; i < 3; i++) {
          const r = await b.take([req()]);
          assert.equal(r.allowed, true);
          remaining.push(r.items[0]!.remaining);
        }
        assert.deepEqual(remaining, [2, 1, 0]);
        const refused = await b.take([req()]);
        assert.equal(refused.allowed, false);
        const s = refused.items[0]!;
        assert.equal(s.allowed, false);
        assert.equal(s.remaining, 0);
        assert.ok(
          s.retryAfterMs !== null && s.retryAfterMs > 0 && s.retryAfterMs <= 1000,
          `retryAfter ${s.retryAfterMs}`,
        );
        assert.ok(s.resetMs > 2000 && s.resetMs <= 3000, `reset ${s.resetMs}`);
      });

      it('a refused take consumes nothing: after one interval exactly one more passes', async () => {
        for (let i = 0; i < 3; i++) await b.take([req()]);
        for (let i = 0; i < 5; i++) assert.equal((await b.take([req()])).allowed, false);
        await h.advance(1050);
        assert.equal((await b.take([req()])).allowed, true);
        assert.equal((await b.take([req()])).allowed, false);
      });

      it('is all-or-nothing across counters', async () => {
        const tight: RateItem = { key: 'tight', intervalMs: 1000, capacity: 1, cost: 1 };
        assert.equal((await b.take([tight])).allowed, true);
        const both = await b.take([req('wide'), tight]);
        assert.equal(both.allowed, false);
        assert.equal(both.items[0]!.allowed, true, 'the wide counter alone would have passed');
        assert.equal(both.items[1]!.allowed, false);
        assert.equal(
          (await b.take([req('wide')])).items[0]!.remaining,
          2,
          'the refused take did not consume the wide counter',
        );
      });

      it('keeps counters apart by key', async () => {
        for (let i = 0; i < 3; i++) await b.take([req('a')]);
        assert.equal((await b.take([req('a')])).allowed, false);
        assert.equal((await b.take([req('b')])).allowed, true);
      });

      it('refuses a cost larger than the capacity with no retry-after (it can never fit)', async () => {
        const r = await b.take([tokens(1001)]);
        assert.equal(r.allowed, false);
        assert.equal(r.items[0]!.retryAfterMs, null);
        assert.equal((await b.take([tokens(1000)])).allowed, true, 'the refused take consumed nothing');
      });

      // A rule's counter key does not include its numbers (gcra.ts, GcraCounter): an edited limit
      // reads the same counter at a new interval and must keep the units already used.
      it('a limit update keeps the used units: raising it leaves them counted, lowering it refuses until they drain', async () => {
        // 6 of 10 used at one unit per 10 s.
        assert.equal((await b.take([{ key: 'edit', intervalMs: 10_000, capacity: 10, cost: 6 }])).allowed, true);
        // Raised to one per second: still 6 used, so 4 left after this one is taken (not 10, not 0).
        const raised = await b.take([{ key: 'edit', intervalMs: 1000, capacity: 10, cost: 1 }]);
        assert.equal(raised.allowed, true);
        assert.equal(raised.items[0]!.remaining, 3);
        // Lowered to 5 at one per 20 s: 7 used is over the new capacity, refused for about 2 units' time.
        const lowered = await b.take([{ key: 'edit', intervalMs: 20_000, capacity: 5, cost: 1 }]);
        assert.equal(lowered.allowed, false);
        assert.equal(lowered.items[0]!.remaining, 0);
        const retry = lowered.items[0]!.retryAfterMs!;
        assert.ok(retry > 59_000 && retry <= 60_000, `retry after ${retry} ms (7 + 1 − 5 = 3 units at 20 s)`);
      });
    });

    describe('token reservations', () => {
      it('settling below the estimate refunds the difference', async () => {
        const id = randomUUID();
        assert.equal((await b.take([tokens(800)], { id, amount: 800, ttlMs: 60_000 })).allowed, true);
        assert.equal((await b.take([tokens(600)])).allowed, false, 'only ~200 left while reserved');
        assert.equal(await b.settle(id, [{ key: 't', intervalMs: 60 }], 800, 100), 'settled');
        assert.equal((await b.take([tokens(600)])).allowed, true, 'refund of 700 made room');
      });

      it('settling above the estimate charges the difference', async () => {
        const id = randomUUID();
        await b.take([tokens(100)], { id, amount: 100, ttlMs: 60_000 });
        assert.equal(await b.settle(id, [{ key: 't', intervalMs: 60 }], 100, 900), 'settled');
        const r = await b.take([tokens(200)]);
        assert.equal(r.allowed, false, 'real usage of 900 left ~100');
        assert.ok(r.items[0]!.remaining <= 100, `remaining ${r.items[0]!.remaining}`);
      });

      it('a second settle of the same reservation does not refund again', async () => {
        const id = randomUUID();
        await b.take([tokens(900)], { id, amount: 900, ttlMs: 60_000 });
        assert.equal(await b.settle(id, [{ key: 't', intervalMs: 60 }], 900, 900), 'settled');
        assert.equal(await b.settle(id, [{ key: 't', intervalMs: 60 }], 900, 0), 'expired');
        assert.equal((await b.take([tokens(500)])).allowed, false);
      });

      it('an unsettled reservation expires: a late settle can charge an overrun but not refund', async () => {
        const refundId = randomUUID();
        await b.take([tokens(900, 'x')], { id: refundId, amount: 900, ttlMs: 50 });
        await h.advance(120);
        assert.equal(await b.settle(refundId, [{ key: 'x', intervalMs: 60 }], 900, 0), 'expired');
        assert.equal((await b.take([tokens(500, 'x')])).allowed, false, 'no refund after expiry');

        const chargeId = randomUUID();
        await b.take([tokens(100, 'y')], { id: chargeId, amount: 100, ttlMs: 50 });
        await h.advance(120);
        assert.equal(await b.settle(chargeId, [{ key: 'y', intervalMs: 60 }], 100, 1000), 'expired');
        assert.equal((await b.take([tokens(200, 'y')])).allowed, false, 'the overrun of 900 was charged');
      });

      it('a refused take records no reservation', async () => {
        const id = randomUUID();
        await b.take([tokens(1000)]);
        assert.equal((await b.take([tokens(500)], { id, amount: 500, ttlMs: 60_000 })).allowed, false);
        assert.equal(await b.settle(id, [{ key: 't', intervalMs: 60 }], 500, 0), 'expired');
      });
    });

    describe('concurrency slots', () => {
      const slot = (key = 's', max = 2) => ({ key, max });

      it('holds at most `max` leases; a release frees one', async () => {
        assert.equal((await b.acquire([slot()], 'L1', 60_000)).allowed, true);
        const second = await b.acquire([slot()], 'L2', 60_000);
        assert.deepEqual(second, { allowed: true, items: [{ allowed: true, inUse: 2 }] });
        const third = await b.acquire([slot()], 'L3', 60_000);
        assert.deepEqual(third, { allowed: false, items: [{ allowed: false, inUse: 2 }] });
        await b.release(['s'], 'L1');
        assert.equal((await b.acquire([slot()], 'L3', 60_000)).allowed, true);
      });

      it('acquiring a lease already held is idempotent', async () => {
        await b.acquire([slot('s', 1)], 'L1', 60_000);
        assert.equal((await b.acquire([slot('s', 1)], 'L1', 60_000)).allowed, true);
      });

      it('is all-or-nothing across counters', async () => {
        await b.acquire([slot('full', 1)], 'L1', 60_000);
        assert.equal((await b.acquire([slot('free', 1), slot('full', 1)], 'L2', 60_000)).allowed, false);
        assert.equal((await b.acquire([slot('free', 1)], 'L3', 60_000)).allowed, true, 'L2 took no slot on "free"');
      });

      it('a lease that is not renewed expires (a crashed instance frees its slots)', async () => {
        await b.acquire([slot('s', 1)], 'crashed', 100);
        assert.equal((await b.acquire([slot('s', 1)], 'L2', 60_000)).allowed, false);
        await h.advance(200);
        assert.equal((await b.acquire([slot('s', 1)], 'L2', 60_000)).allowed, true);
        assert.equal(await b.renew(['s'], 'crashed', 60_000), false);
      });

      it('renewing keeps a lease alive past its first ttl', async () => {
        await b.acquire([slot('s', 1)], 'L1', 300);
        await h.advance(200);
        assert.equal(await b.renew(['s'], 'L1', 300), true);
        await h.advance(200);
        assert.equal((await b.acquire([slot('s', 1)], 'L2', 60_000)).allowed, false);
      });

      it('releasing an unknown lease is harmless', async () => {
        await b.release(['s'], 'nobody');
        assert.equal((await b.acquire([slot('s', 1)], 'L1', 60_000)).allowed, true);
      });
    });

    describe('admit and finish (one operation each per request)', () => {
      const slot = (key = 's', max = 1) => ({ key, max });

      it('grants slots and rates together, reserving tokens; finish settles and frees the slot', async () => {
        const id = randomUUID();
        const r = await b.admit([slot()], 'L1', 60_000, [req(), tokens(800)], { id, amount: 800, ttlMs: 60_000 });
        assert.equal(r.allowed, true);
        assert.deepEqual(r.slots, { allowed: true, items: [{ allowed: true, inUse: 1 }] });
        assert.equal(r.rates?.allowed, true);
        assert.deepEqual(
          r.rates?.items.map((i) => i.allowed),
          [true, true],
        );
        assert.equal(r.rates?.items[0]?.remaining, 2);
        assert.equal((await b.acquire([slot()], 'L2', 60_000)).allowed, false, 'the slot is held');
        assert.equal((await b.take([tokens(600)])).allowed, false, 'the tokens are reserved');

        assert.equal(
          await b.finish({ id, items: [{ key: 't', intervalMs: 60 }], reserved: 800, actual: 100 }, ['s'], 'L1'),
          'settled',
        );
        assert.equal((await b.acquire([slot()], 'L2', 60_000)).allowed, true, 'finish freed the slot');
        assert.equal((await b.take([tokens(600)])).allowed, true, 'finish refunded the unused estimate');
      });

      it('slots refused: no rate is consumed and no reservation recorded', async () => {
        await b.acquire([slot()], 'other', 60_000);
        const id = randomUUID();
        const r = await b.admit([slot()], 'L1', 60_000, [req(), tokens(500)], { id, amount: 500, ttlMs: 60_000 });
        assert.equal(r.allowed, false);
        assert.deepEqual(r.slots, { allowed: false, items: [{ allowed: false, inUse: 1 }] });
        assert.equal(r.rates, undefined);
        assert.equal((await b.take([req()])).items[0]!.remaining, 2, 'the request rate is untouched');
        assert.equal(
          await b.finish({ id, items: [{ key: 't', intervalMs: 60 }], reserved: 500, actual: 0 }, [], 'L1'),
          'expired',
          'nothing was reserved',
        );
      });

      it('rates refused: the slots just granted are given back', async () => {
        for (let i = 0; i < 3; i++) await b.take([req()]);
        const r = await b.admit([slot('a', 1), slot('b', 1)], 'L1', 60_000, [req()]);
        assert.equal(r.allowed, false);
        assert.equal(r.slots.allowed, true);
        assert.equal(r.rates?.allowed, false);
        assert.ok((r.rates?.items[0]?.retryAfterMs ?? 0) > 0);
        assert.equal((await b.acquire([slot('a', 1), slot('b', 1)], 'L2', 60_000)).allowed, true, 'L1 holds no slot');
      });

      it('works with only slots, only rates, or nothing to settle', async () => {
        assert.deepEqual(
          await b.admit([], 'L1', 60_000, [req()]).then((r) => [r.allowed, r.slots.items.length, r.rates?.allowed]),
          [true, 0, true],
        );
        const onlySlots = await b.admit([slot('only', 1)], 'L2', 60_000, []);
        assert.deepEqual([onlySlots.allowed, onlySlots.rates], [true, undefined]);
        assert.equal(await b.finish(undefined, ['only'], 'L2'), undefined);
        assert.equal((await b.acquire([slot('only', 1)], 'L3', 60_000)).allowed, true);
        assert.equal(await b.finish(undefined, [], 'L3'), undefined);
      });
    });
  });
}
