import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runLimitBackendContract } from '../contract.ts';
import { LimitBackendError } from '../limit-backend.ts';
import { createMemoryBackend } from './memory-backend.ts';

function fakeClock(start = 1_700_000_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

runLimitBackendContract('memory', async () => {
  const clock = fakeClock();
  const backend = createMemoryBackend({ now: clock.now, sweepIntervalMs: 0 });
  return {
    backend,
    advance: async (ms) => clock.advance(ms),
    cleanup: () => backend.close(),
  };
});

describe('memory backend specifics', () => {
  it('sweeps finished state: full buckets, expired leases and reservations leave no entry', async () => {
    const clock = fakeClock();
    const b = createMemoryBackend({ now: clock.now, sweepIntervalMs: 0 });
    await b.take([{ key: 'a', intervalMs: 100, capacity: 5, cost: 1 }], { id: 'r', amount: 1, ttlMs: 1000 });
    await b.acquire([{ key: 's', max: 1 }], 'L', 500);
    assert.equal(b.size(), 3);
    clock.advance(1001);
    assert.equal(b.sweep(), 0);
    await b.close();
  });

  it('refuses to grow past maxEntries (fails like an unreachable store) instead of evicting live counters', async () => {
    const clock = fakeClock();
    const b = createMemoryBackend({ now: clock.now, sweepIntervalMs: 0, maxEntries: 2 });
    const item = (key: string) => ({ key, intervalMs: 60_000, capacity: 10, cost: 1 });
    await b.take([item('a')]);
    await b.take([item('b')]);
    await assert.rejects(b.take([item('c')]), LimitBackendError);
    const again = await b.take([item('a')]);
    assert.equal(again.items[0]!.remaining, 8, 'existing counters are kept, not reset');
    clock.advance(60_000 * 10);
    assert.equal((await b.take([item('c')])).allowed, true, 'room again once old state has drained');
    await b.close();
  });

  it('frees a lease when it expires, whatever the order the leases were taken, renewed or released in', async () => {
    const clock = fakeClock();
    const b = createMemoryBackend({ now: clock.now, sweepIntervalMs: 0 });
    const slot = [{ key: 's', max: 3 }];
    assert.equal((await b.acquire(slot, 'long', 10_000)).allowed, true);
    assert.equal((await b.acquire(slot, 'short', 100)).allowed, true);
    assert.equal((await b.acquire(slot, 'renewed', 100)).allowed, true);
    assert.equal(await b.renew(['s'], 'renewed', 5_000), true);
    assert.equal((await b.acquire(slot, 'x', 100)).allowed, false, 'three leases are live');
    clock.advance(100);
    // Only `short` has expired: the earliest expiry, taken after a longer one.
    assert.deepEqual(await b.acquire(slot, 'x', 1_000), { allowed: true, items: [{ allowed: true, inUse: 3 }] });
    await b.release(['s'], 'long');
    assert.equal((await b.acquire(slot, 'y', 1_000)).allowed, true, 'a released lease frees its slot at once');
    assert.equal((await b.acquire(slot, 'z', 1_000)).allowed, false);
    clock.advance(1_000);
    // `x` and `y` expire together; `renewed` (5 s) is still held.
    assert.deepEqual(await b.acquire(slot, 'z', 1_000), { allowed: true, items: [{ allowed: true, inUse: 2 }] });
    clock.advance(5_000);
    assert.deepEqual(await b.acquire(slot, 'w', 1_000), { allowed: true, items: [{ allowed: true, inUse: 1 }] });
    await b.close();
  });

  it('a closed backend fails every call', async () => {
    const b = createMemoryBackend({ sweepIntervalMs: 0 });
    await b.close();
    await assert.rejects(b.take([{ key: 'a', intervalMs: 1, capacity: 1, cost: 1 }]), LimitBackendError);
  });
});
