import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planAttemptOrder } from './attempt-order.ts';
import { target } from './testing/fake-provider.ts';

/** A small deterministic PRNG (mulberry32) so the distribution test is repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('priority groups are tried in ascending order, whatever order the config lists them in', () => {
  const order = planAttemptOrder([target('c', 'm', 1, 3), target('a', 'm', 1, 1), target('b', 'm', 1, 2)], seeded(1));
  assert.deepEqual(
    order.map((t) => t.provider),
    ['a', 'b', 'c'],
  );
});

test('a target with weight 0 is never picked', () => {
  const random = seeded(2);
  for (let i = 0; i < 200; i++) {
    const order = planAttemptOrder([target('zero', 'm', 0), target('one', 'm', 1)], random);
    assert.deepEqual(
      order.map((t) => t.provider),
      ['one'],
    );
  }
});

test('first picks follow the weights within a priority group', () => {
  const random = seeded(42);
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const order = planAttemptOrder(
      [target('a', 'm', 1), target('b', 'm', 3), target('c', 'm', 6), target('z', 'm', 5, 2)],
      random,
    );
    const first = order[0]?.provider ?? '';
    counts[first] = (counts[first] ?? 0) + 1;
    assert.equal(order.length, 4);
    assert.equal(order[3]?.provider, 'z', 'the fallback group always comes last');
  }
  assert.ok(Math.abs(counts.a! / n - 0.1) < 0.02, `a: ${counts.a}`);
  assert.ok(Math.abs(counts.b! / n - 0.3) < 0.02, `b: ${counts.b}`);
  assert.ok(Math.abs(counts.c! / n - 0.6) < 0.02, `c: ${counts.c}`);
});

test('the random draw maps onto weight ranges (injected random)', () => {
  const targets = [target('a', 'm', 1), target('b', 'm', 3)];
  assert.equal(planAttemptOrder(targets, () => 0.2)[0]?.provider, 'a');
  assert.equal(planAttemptOrder(targets, () => 0.3)[0]?.provider, 'b');
  assert.equal(planAttemptOrder(targets, () => 0.999)[0]?.provider, 'b');
});
