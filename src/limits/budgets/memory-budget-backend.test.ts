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
});
