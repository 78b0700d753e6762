import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPenaltyBox } from './penalty-box.ts';

test('a throttle lets requests through at its rate, starting one interval in, until it ends', () => {
  const box = createPenaltyBox(100);
  box.throttle('key:k', 300_000, 2, 'usage_spike', 0); // one every 30 s
  assert.deepEqual(box.check(['key:k'], 1000), {
    code: 'limit.adaptive_throttle',
    retryAfterS: 29,
    subject: 'key:k',
    rule: 'usage_spike',
  });
  assert.equal(box.check(['key:k'], 30_000), undefined, 'the first slot');
  assert.equal(box.check(['key:k'], 30_001)?.code, 'limit.adaptive_throttle', 'the slot was taken');
  assert.equal(box.check(['key:other', 'ip:1.2.3.4'], 30_001), undefined, 'other subjects are untouched');
  assert.equal(box.check(['key:k'], 300_000), undefined, 'over');
  assert.equal(box.size, 0, 'expired entries are dropped');
});

test('a throttle at 0 requests per minute refuses everything until it ends; Retry-After says when', () => {
  const box = createPenaltyBox(100);
  box.throttle('key:k', 120_000, 0, 'usage_spike', 0);
  assert.equal(box.check(['key:k'], 60_000)?.retryAfterS, 60);
  assert.equal(box.check(['key:k'], 119_500)?.retryAfterS, 1);
  assert.equal(box.check(['key:k'], 120_000), undefined);
});

test('a suspension refuses with 403 code, wins over a throttle, and a throttle never weakens it', () => {
  const box = createPenaltyBox(100);
  box.throttle('key:k', 60_000, 600, 'usage_spike', 0);
  box.suspend('ip:9.9.9.9', 90_000, 'brute_force');
  assert.deepEqual(box.check(['key:k', 'ip:9.9.9.9'], 10_000), {
    code: 'auth.key_suspended',
    retryAfterS: 80,
    subject: 'ip:9.9.9.9',
    rule: 'brute_force',
  });
  box.throttle('ip:9.9.9.9', 100_000, 600, 'usage_spike', 20_000);
  assert.equal(box.check(['ip:9.9.9.9'], 95_000)?.code, 'auth.key_suspended', 'still suspended, and for longer');
  assert.equal(box.check(['ip:9.9.9.9'], 100_000), undefined);
});
