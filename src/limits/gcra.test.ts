import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type GcraParams, gcraAdjust, gcraCarryOver, gcraDecide } from './gcra.ts';

/** Runs takes against one counter with an injected clock. */
function counter(p: Omit<GcraParams, 'cost'>) {
  let tat: number | undefined;
  return (now: number, cost = 1) => {
    const d = gcraDecide(tat, now, { ...p, cost });
    if (d.allowed) tat = d.newTat;
    return d;
  };
}

const MINUTE = 60_000;

describe('GCRA', () => {
  it('no 2× burst at a window boundary: a burst spent just before a minute mark is not refilled just after it', () => {
    // 60 per minute, burst 10. A fixed 1-minute window would admit 10 at 59.9 s and 10 more at 60.1 s.
    const take = counter({ intervalMs: MINUTE / 60, capacity: 10 });
    let before = 0;
    for (let i = 0; i < 20; i++) if (take(59_900).allowed) before++;
    let after = 0;
    for (let i = 0; i < 20; i++) if (take(60_100).allowed) after++;
    assert.equal(before, 10);
    assert.equal(after, 0, 'only 0.2 s of refill (0.2 requests) since the burst');
  });

  it('admits at most burst + rate × t in any span of t (sliding check over 5 simulated minutes)', () => {
    const limit = 60;
    const burst = 10;
    const take = counter({ intervalMs: MINUTE / limit, capacity: burst });
    const admitted: number[] = [];
    // A greedy client tries every 50 ms.
    for (let t = 0; t < 5 * MINUTE; t += 50) if (take(t).allowed) admitted.push(t);
    for (let i = 0; i < admitted.length; i++) {
      let j = i;
      while (j < admitted.length && admitted[j]! < admitted[i]! + MINUTE) j++;
      assert.ok(j - i <= limit + burst, `${j - i} admitted in the minute from ${admitted[i]} ms`);
    }
    // And the long-run rate is the configured one.
    assert.ok(Math.abs(admitted.length - (5 * limit + burst)) <= 1, `${admitted.length} in 5 minutes`);
  });

  it('retry-after is exact: refused 1 ms before it, admitted at it', () => {
    const take = counter({ intervalMs: 100, capacity: 3 });
    for (let i = 0; i < 3; i++) assert.equal(take(1000).allowed, true);
    const refused = take(1000);
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterMs, 100);
    assert.equal(take(1000 + 99).allowed, false);
    assert.equal(take(1000 + 100).allowed, true);
  });

  it('reports remaining and reset', () => {
    const take = counter({ intervalMs: 1000, capacity: 5 });
    const first = take(0);
    assert.equal(first.remaining, 4);
    assert.equal(first.resetMs, 1000);
    take(0);
    const third = take(500);
    assert.equal(third.remaining, 2);
    assert.equal(third.resetMs, 2500);
  });

  it('exact multiples of a fractional interval still fit (float slack)', () => {
    const take = counter({ intervalMs: 1000 / 3, capacity: 3 });
    for (let i = 0; i < 3; i++) assert.equal(take(0).allowed, true, `take ${i}`);
    assert.equal(take(0).allowed, false);
  });

  it('weighted cost (tokens): a cost above capacity never fits and says so', () => {
    const take = counter({ intervalMs: 60, capacity: 1000 });
    const d = take(0, 1001);
    assert.equal(d.allowed, false);
    assert.equal(d.retryAfterMs, null);
    assert.equal(take(0, 1000).allowed, true);
  });

  it('settle adjustments: a charge goes into debt, a refund never frees more than is charged', () => {
    assert.equal(gcraAdjust(undefined, 1000, 10, 50), 1500);
    assert.equal(gcraAdjust(1200, 1000, 10, -100), 1000, 'refund stops at now');
    assert.equal(gcraAdjust(5000, 1000, 10, -100), 4000);
    assert.equal(gcraAdjust(500, 1000, 10, 10), 1100, 'a stale TAT counts from now');
  });
});

describe('gcraCarryOver (a limit edited between restarts)', () => {
  it('keeps the units used, converted to the new interval; a paid debt or an unchanged interval is left alone', () => {
    assert.equal(gcraCarryOver(undefined, 1000, 50), undefined);
    // 6 units of 10 s owed → 6 units of 1 s owed.
    assert.equal(gcraCarryOver({ tat: 1000 + 60_000, intervalMs: 10_000 }, 1000, 1000), 1000 + 6000);
    assert.equal(gcraCarryOver({ tat: 1000 + 600, intervalMs: 100 }, 1000, 2000), 1000 + 12_000);
    assert.equal(gcraCarryOver({ tat: 900, intervalMs: 100 }, 1000, 2000), 900, 'nothing owed: nothing to convert');
    assert.equal(gcraCarryOver({ tat: 5000, intervalMs: 100 }, 1000, 100), 5000);
  });
});
