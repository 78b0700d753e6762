import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLockout } from './lockout.ts';

function clock(start = 1_000_000): { now: () => number; advance: (s: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (s) => {
      t += s * 1000;
    },
  };
}

describe('createLockout', () => {
  it('locks a subject on the threshold-th failure inside the window, for base seconds', () => {
    const c = clock();
    const l = createLockout({ threshold: 3, windowS: 60, baseLockoutS: 30, maxLockoutS: 300, now: c.now });
    assert.deepEqual(l.recordFailure(['ip:1.2.3.4']), { locked: false });
    assert.deepEqual(l.recordFailure(['ip:1.2.3.4']), { locked: false });
    assert.deepEqual(l.check(['ip:1.2.3.4']), { locked: false });
    assert.deepEqual(l.recordFailure(['ip:1.2.3.4']), { locked: true, retryAfterS: 30, subject: 'ip:1.2.3.4' });
    c.advance(29);
    assert.deepEqual(l.check(['ip:9.9.9.9', 'ip:1.2.3.4']), { locked: true, retryAfterS: 1, subject: 'ip:1.2.3.4' });
    c.advance(1);
    assert.deepEqual(l.check(['ip:1.2.3.4']), { locked: false });
  });

  it('forgets failures that slid out of the window', () => {
    const c = clock();
    const l = createLockout({ threshold: 3, windowS: 60, baseLockoutS: 30, maxLockoutS: 300, now: c.now });
    l.recordFailure(['s']);
    c.advance(30);
    l.recordFailure(['s']);
    c.advance(31); // the first failure is now 61 s old
    assert.equal(l.recordFailure(['s']).locked, false);
    assert.equal(l.recordFailure(['s']).locked, true);
  });

  it('doubles each further lockout up to the maximum', () => {
    const c = clock();
    const l = createLockout({ threshold: 2, windowS: 600, baseLockoutS: 10, maxLockoutS: 35, now: c.now });
    const lockOnce = (): number => {
      l.recordFailure(['k']);
      const v = l.recordFailure(['k']);
      assert.equal(v.locked, true);
      const s = v.locked ? v.retryAfterS : 0;
      c.advance(s);
      return s;
    };
    assert.deepEqual([lockOnce(), lockOnce(), lockOnce(), lockOnce()], [10, 20, 35, 35]);
  });

  it('does not extend or escalate a lockout with failures made while locked', () => {
    const c = clock();
    const l = createLockout({ threshold: 2, windowS: 600, baseLockoutS: 10, maxLockoutS: 1000, now: c.now });
    l.recordFailure(['k']);
    l.recordFailure(['k']);
    for (let i = 0; i < 50; i++) l.recordFailure(['k']);
    c.advance(5);
    assert.deepEqual(l.check(['k']), { locked: true, retryAfterS: 5, subject: 'k' });
    c.advance(5);
    assert.equal(l.check(['k']).locked, false);
    // The next lockout is the second one: 20 s, not a 26th escalation.
    l.recordFailure(['k']);
    const v = l.recordFailure(['k']);
    assert.deepEqual(v, { locked: true, retryAfterS: 20, subject: 'k' });
  });

  it('counts one failure against every subject given, and reports the longest lock', () => {
    const c = clock();
    const l = createLockout({ threshold: 2, windowS: 600, baseLockoutS: 10, maxLockoutS: 1000, now: c.now });
    l.recordFailure(['ip:a']);
    const v = l.recordFailure(['ip:a', 'key:x']);
    assert.deepEqual(v, { locked: true, retryAfterS: 10, subject: 'ip:a' });
    assert.equal(l.check(['key:x']).locked, false);
  });

  it('recordSuccess clears the failure count but not an active lockout', () => {
    const c = clock();
    const l = createLockout({ threshold: 3, windowS: 600, baseLockoutS: 10, maxLockoutS: 1000, now: c.now });
    l.recordFailure(['a']);
    l.recordFailure(['a']);
    l.recordSuccess(['a']);
    assert.equal(l.recordFailure(['a']).locked, false);
    l.recordFailure(['a']);
    assert.equal(l.recordFailure(['a']).locked, true);
    l.recordSuccess(['a']);
    assert.equal(l.check(['a']).locked, true);
  });

  it('stays bounded when an attacker sprays subjects, without evicting a locked subject', () => {
    const c = clock();
    const l = createLockout({
      threshold: 2,
      windowS: 600,
      baseLockoutS: 100,
      maxLockoutS: 1000,
      maxSubjects: 50,
      now: c.now,
    });
    l.recordFailure(['key:victim']);
    l.recordFailure(['key:victim']);
    for (let i = 0; i < 10_000; i++) l.recordFailure([`ip:10.0.${i >> 8}.${i & 255}`]);
    assert.equal(l.check(['key:victim']).locked, true);
    assert.ok(l.trackedSubjects() <= 50, `tracked ${l.trackedSubjects()}`);
    // The spray itself is still counted for recent subjects (LRU keeps the newest).
    assert.equal(l.recordFailure(['ip:10.0.39.15']).locked, true);
  });

  it('applyLock (a lockout from another instance) locks at once, is capped, never shortens and does not escalate', () => {
    const c = clock();
    const l = createLockout({ threshold: 2, windowS: 60, baseLockoutS: 30, maxLockoutS: 300, now: c.now });
    l.applyLock('ip:1.2.3.4', 10_000_000);
    assert.deepEqual(l.check(['ip:1.2.3.4']), { locked: true, retryAfterS: 300, subject: 'ip:1.2.3.4' });
    l.applyLock('ip:1.2.3.4', 5_000);
    assert.deepEqual(l.check(['ip:1.2.3.4']), { locked: true, retryAfterS: 300, subject: 'ip:1.2.3.4' });
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) l.applyLock('ip:5.6.7.8', bad);
    assert.deepEqual(l.check(['ip:5.6.7.8']), { locked: false });
    c.advance(300);
    assert.deepEqual(l.check(['ip:1.2.3.4']), { locked: false });
    // Its own next lockout is still the first: base, not doubled.
    l.recordFailure(['ip:1.2.3.4']);
    assert.deepEqual(l.recordFailure(['ip:1.2.3.4']), { locked: true, retryAfterS: 30, subject: 'ip:1.2.3.4' });
  });

  it('rejects nonsensical options at construction', () => {
    assert.throws(() => createLockout({ threshold: 0 }), /threshold/);
    assert.throws(() => createLockout({ windowS: 1.5 }), /windowS/);
    assert.throws(() => createLockout({ baseLockoutS: 100, maxLockoutS: 10 }), /maxLockoutS/);
    assert.throws(() => createLockout({ maxSubjects: 0 }), /maxSubjects/);
  });
});
