import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BudgetBackendError } from './budget-backend.ts';
import { runBudgetBackendContract } from './contract.ts';
import { createMemoryBudgetBackend } from './memory-budget-backend.ts';

function fakeClock(start = 1_700_000_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

runBudgetBackendContract('memory', async () => {
  const clock = fakeClock();
  const backend = createMemoryBudgetBackend({ now: clock.now });
  return { backend, advance: async (ms) => clock.advance(ms), cleanup: () => backend.close() };
});

describe('memory budget backend specifics', () => {
  it('forgets a counter when its period has passed, and refuses to grow past maxCounters', async () => {
    const clock = fakeClock();
    const b = createMemoryBudgetBackend({ now: clock.now, maxCounters: 1 });
    const item = (key: string) => ({ key, limitMicros: 10, ttlMs: 1000, thresholds: [] });
    await b.reserve('r', [item('a')], 5, 100);
    await assert.rejects(b.reserve('r2', [item('b')], 5, 100), BudgetBackendError);
    clock.advance(1001);
    assert.equal((await b.reserve('r3', [item('b')], 10, 100)).allowed, true);
    assert.equal(b.size(), 1);
    await b.close();
    await assert.rejects(b.peek([item('b')]), BudgetBackendError);
  });

  it('charges an expired hold at its amount, whatever the order the holds were taken or extended in', async () => {
    const clock = fakeClock();
    const b = createMemoryBudgetBackend({ now: clock.now });
    const item = { key: 'k', limitMicros: 1_000, ttlMs: 3_600_000, thresholds: [] };
    await b.reserve('long', [item], 100, 10_000);
    await b.reserve('short', [item], 20, 100);
    await b.reserve('extended', [item], 5, 100);
    await b.extend('extended', [item], 5, 5_000);
    let [s] = await b.peek([item]);
    assert.deepEqual([s!.spentMicros, s!.heldMicros], [0, 130]);
    clock.advance(100);
    [s] = await b.peek([item]);
    assert.deepEqual([s!.spentMicros, s!.heldMicros], [20, 110], 'only the earliest hold, taken last but one, expired');
    assert.equal((await b.settle('long', [item], 100, 40)).outcome, 'settled');
    clock.advance(5_000);
    [s] = await b.peek([item]);
    assert.deepEqual([s!.spentMicros, s!.heldMicros], [70, 0], 'the extended hold expired at its later time');
    await b.close();
  });
});
