import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedMap } from './bounded-map.ts';

test('never holds more than its limit, and keeps what is being used', () => {
  const m = new BoundedMap<string, number>(100);
  m.set('hot', 0);
  for (let i = 0; i < 10_000; i++) {
    m.set(`k${i}`, i);
    if (i % 10 === 0) assert.equal(m.get('hot'), 0, `the entry in use survives (at ${i})`);
    assert.ok(m.size <= 100);
  }
  assert.equal(m.peek('k0'), undefined, 'entries not used since are forgotten');
  assert.equal(m.get('k9999'), 9999);
});

test('set replaces, delete removes from either generation, upsert creates once', () => {
  const m = new BoundedMap<string, number>(4);
  m.set('a', 1);
  m.set('b', 2);
  m.set('c', 3); // 'a' and 'b' are now the old generation
  m.set('a', 10);
  assert.equal(m.get('a'), 10);
  m.delete('b');
  assert.equal(m.peek('b'), undefined);
  let made = 0;
  assert.equal(
    m.upsert('z', () => ++made),
    1,
  );
  assert.equal(
    m.upsert('z', () => ++made),
    1,
  );
  assert.equal(made, 1);
  assert.throws(() => new BoundedMap(1), /max must be/);
});
