/**
 * The behaviour every BudgetBackend must have. Each backend's test file calls
 * `runBudgetBackendContract(name, make)`; `make` gives a fresh backend with its own key space,
 * an `advance(ms)` (a fake clock for memory, a real wait for Redis, whose scripts read the
 * server clock) and a `cleanup`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { BudgetBackend, BudgetItem } from './budget-backend.ts';

export interface BudgetBackendUnderTest {
  readonly backend: BudgetBackend;
  readonly advance: (ms: number) => Promise<void>;
  readonly cleanup: () => Promise<void>;
}

const HOUR = 3_600_000;

export function runBudgetBackendContract(name: string, make: () => Promise<BudgetBackendUnderTest>): void {
  describe(`BudgetBackend contract: ${name}`, () => {
    let h: BudgetBackendUnderTest;
    let b: BudgetBackend;
    beforeEach(async () => {
      h = await make();
      b = h.backend;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    const item = (key = 'c', limitMicros = 1_000_000, thresholds: number[] = []): BudgetItem => ({
      key,
      limitMicros,
      ttlMs: HOUR,
      thresholds,
    });

    it('reserves while spent + held + amount fits, then refuses without touching the counter', async () => {
      assert.equal((await b.reserve('r1', [item()], 600_000, 60_000)).allowed, true);
      const refused = await b.reserve('r2', [item()], 500_000, 60_000);
      assert.equal(refused.allowed, false);
      assert.deepEqual(refused.items[0], {
        allowed: false,
        spentMicros: 0,
        heldMicros: 600_000,
        limitMicros: 1_000_000,
      });
      const fits = await b.reserve('r3', [item()], 400_000, 60_000);
      assert.equal(fits.allowed, true, 'exactly the limit fits');
      assert.equal(fits.items[0]!.heldMicros, 1_000_000);
    });

    it('settles below the estimate: the hold is released and only the real cost is spent', async () => {
      await b.reserve('r1', [item()], 900_000, 60_000);
      const s = await b.settle('r1', [item()], 900_000, 123_456);
      assert.equal(s.outcome, 'settled');
      assert.deepEqual(s.items[0], { allowed: true, spentMicros: 123_456, heldMicros: 0, limitMicros: 1_000_000 });
      assert.equal((await b.reserve('r2', [item()], 876_544, 60_000)).allowed, true);
      assert.equal((await b.reserve('r3', [item()], 1, 60_000)).allowed, false);
    });

    it('settles above the estimate: the overrun is spent (an overdrawn counter refuses everything)', async () => {
      await b.reserve('r1', [item()], 100_000, 60_000);
      const s = await b.settle('r1', [item()], 100_000, 1_200_000);
      assert.equal(s.items[0]!.spentMicros, 1_200_000);
      assert.equal(s.items[0]!.allowed, false);
      assert.equal(
        (await b.reserve('r2', [item()], 0, 60_000)).allowed,
        false,
        'even a zero reservation is refused when overdrawn',
      );
    });

    it('releases a reservation settled at zero (errors, aborts before any work)', async () => {
      await b.reserve('r1', [item()], 1_000_000, 60_000);
      await b.settle('r1', [item()], 1_000_000, 0);
      const [st] = await b.peek([item()]);
      assert.deepEqual(st, { allowed: true, spentMicros: 0, heldMicros: 0, limitMicros: 1_000_000 });
    });

    it('a second settle of the same reservation charges only an overrun, never twice', async () => {
      await b.reserve('r1', [item()], 500_000, 60_000);
      await b.settle('r1', [item()], 500_000, 300_000);
      const again = await b.settle('r1', [item()], 500_000, 300_000);
      assert.equal(again.outcome, 'expired');
      assert.equal(again.items[0]!.spentMicros, 300_000);
    });

    it('is all-or-nothing across counters', async () => {
      await b.reserve('r0', [item('small', 100)], 100, 60_000);
      const both = await b.reserve('r1', [item('big'), item('small', 100)], 50, 60_000);
      assert.equal(both.allowed, false);
      assert.equal(both.items[0]!.allowed, true);
      assert.equal(both.items[1]!.allowed, false);
      const [big] = await b.peek([item('big')]);
      assert.equal(big!.heldMicros, 0, 'the refused reserve held nothing on the counter that had room');
    });

    it('extends a reservation while it fits (a stream outgrowing its estimate), then refuses', async () => {
      await b.reserve('r1', [item()], 400_000, 60_000);
      assert.equal((await b.extend('r1', [item()], 500_000, 60_000)).allowed, true);
      assert.equal((await b.extend('r1', [item()], 200_000, 60_000)).allowed, false);
      const s = await b.settle('r1', [item()], 900_000, 950_000);
      assert.equal(s.outcome, 'settled');
      assert.deepEqual(s.items[0], { allowed: true, spentMicros: 950_000, heldMicros: 0, limitMicros: 1_000_000 });
    });

    it('an unsettled reservation expires and is charged at its amount (a crashed instance cannot spend unchecked)', async () => {
      await b.reserve('crashed', [item()], 700_000, 100);
      await h.advance(250);
      const [st] = await b.peek([item()]);
      assert.deepEqual(st, { allowed: true, spentMicros: 700_000, heldMicros: 0, limitMicros: 1_000_000 });
      const late = await b.settle('crashed', [item()], 700_000, 800_000);
      assert.equal(late.outcome, 'expired');
      assert.equal(late.items[0]!.spentMicros, 800_000, 'a late settle adds only the overrun');
    });

    it('reports each threshold once, when settled spend first reaches it', async () => {
      const it = item('alerts', 1_000_000, [50, 80, 100]);
      const spend = async (id: string, micros: number) => {
        await b.reserve(id, [it], micros, 60_000);
        return (await b.settle(id, [it], micros, micros)).crossed[0];
      };
      assert.deepEqual(await spend(randomUUID(), 400_000), []);
      assert.deepEqual(await spend(randomUUID(), 450_000), [50, 80]);
      assert.deepEqual(await spend(randomUUID(), 10_000), []);
      assert.deepEqual(await spend(randomUUID(), 140_000), [100]);
      assert.deepEqual(await b.settle(randomUUID(), [it], 0, 0).then((s) => s.crossed[0]), []);
    });

    it('keeps counters apart by key', async () => {
      await b.reserve('r1', [item('a', 10)], 10, 60_000);
      assert.equal((await b.reserve('r2', [item('a', 10)], 1, 60_000)).allowed, false);
      assert.equal((await b.reserve('r3', [item('b', 10)], 10, 60_000)).allowed, true);
    });

    it('keeps exact integers far beyond float cents', async () => {
      const big = item('big', 2 ** 50);
      await b.reserve('r1', [big], 2 ** 50 - 1, 60_000);
      const s = await b.settle('r1', [big], 2 ** 50 - 1, 2 ** 50 - 3);
      assert.equal(s.items[0]!.spentMicros, 2 ** 50 - 3);
      const huge = item('huge', 2 ** 52);
      await b.reserve('r2', [huge], 2 ** 51 + 1, 100);
      await h.advance(250);
      assert.equal(
        (await b.peek([huge]))[0]!.spentMicros,
        2 ** 51 + 1,
        'an expired big reservation is charged exactly',
      );
    });
  });
}
