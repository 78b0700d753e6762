import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBreakerRegistry } from './circuit-breaker.ts';
import { target } from './testing/fake-provider.ts';

const cfg = { failureThreshold: 3, openMs: 1000 };

function setup() {
  let t = 0;
  const reg = createBreakerRegistry(() => t);
  const tgt = target('p', 'm');
  const stateOf = () => reg.states().find((s) => s.provider === 'p' && s.model === 'm')?.state;
  const fail = () => reg.tryAcquire(tgt, cfg)?.settle('failure');
  return {
    reg,
    tgt,
    stateOf,
    fail,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

test('opens after the threshold of consecutive failures and refuses while open', () => {
  const { reg, tgt, stateOf, fail } = setup();
  fail();
  fail();
  assert.equal(stateOf(), 'closed');
  fail();
  assert.equal(stateOf(), 'open');
  assert.equal(reg.tryAcquire(tgt, cfg), undefined);
});

test('a success resets the consecutive count; client errors do not count', () => {
  const { reg, tgt, stateOf, fail } = setup();
  fail();
  fail();
  reg.tryAcquire(tgt, cfg)?.settle('success');
  fail();
  fail();
  for (let i = 0; i < 10; i++) reg.tryAcquire(tgt, cfg)?.settle('neutral');
  assert.equal(stateOf(), 'closed');
});

test('after openMs exactly one trial goes through; its success closes the breaker', () => {
  const { reg, tgt, stateOf, fail, advance } = setup();
  fail();
  fail();
  fail();
  advance(999);
  assert.equal(reg.tryAcquire(tgt, cfg), undefined);
  advance(1);
  assert.equal(stateOf(), 'half-open');
  const trial = reg.tryAcquire(tgt, cfg);
  assert.ok(trial);
  assert.equal(reg.tryAcquire(tgt, cfg), undefined, 'a second request while the trial is out is refused');
  trial.settle('success');
  assert.equal(stateOf(), 'closed');
  assert.ok(reg.tryAcquire(tgt, cfg));
});

test('a failed trial opens the breaker again for another openMs', () => {
  const { reg, tgt, stateOf, fail, advance } = setup();
  fail();
  fail();
  fail();
  advance(1000);
  reg.tryAcquire(tgt, cfg)?.settle('failure');
  assert.equal(stateOf(), 'open');
  advance(999);
  assert.equal(reg.tryAcquire(tgt, cfg), undefined);
  advance(1);
  assert.ok(reg.tryAcquire(tgt, cfg));
});

test('a trial that ends neutral (client gone) lets the next request try', () => {
  const { reg, tgt, fail, advance } = setup();
  fail();
  fail();
  fail();
  advance(1000);
  reg.tryAcquire(tgt, cfg)?.settle('neutral');
  assert.ok(reg.tryAcquire(tgt, cfg));
});

test('breakers are per provider and model', () => {
  const { reg, fail } = setup();
  fail();
  fail();
  fail();
  assert.ok(reg.tryAcquire(target('p', 'other'), cfg));
  assert.ok(reg.tryAcquire(target('q', 'm'), cfg));
});
