import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isCryptoError } from './crypto-error.ts';
import { type CachedKey, createKeyCache } from './key-cache.ts';

function entry(tenantId = 't1'): CachedKey {
  return { tenantId, encKey: Buffer.from(randomBytes(32)), bindKey: Buffer.from(randomBytes(32)) };
}
const wiped = (k: CachedKey): boolean => k.encKey.every((b) => b === 0) && k.bindKey.every((b) => b === 0);

describe('key cache', () => {
  it('evicts the least recently used key past maxEntries and wipes it', () => {
    const cache = createKeyCache({ maxEntries: 2, ttlMs: 60_000, now: () => 0 });
    const a = entry();
    const b = entry();
    const c = entry();
    cache.set('a', a);
    cache.set('b', b);
    assert.equal(cache.get('a'), a); // a is now more recent than b
    cache.set('c', c);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b'), undefined);
    assert.ok(wiped(b));
    assert.ok(!wiped(a) && !wiped(c));
  });

  it('expires keys after ttlMs and wipes them', () => {
    let now = 1000;
    const cache = createKeyCache({ maxEntries: 10, ttlMs: 500, now: () => now });
    const a = entry();
    cache.set('a', a);
    now = 1499;
    assert.equal(cache.get('a'), a);
    now = 1500;
    assert.equal(cache.get('a'), undefined);
    assert.ok(wiped(a));
  });

  it('forgets one tenant (wiping its keys) and keeps the others', () => {
    const cache = createKeyCache({ maxEntries: 10, ttlMs: 500, now: () => 0 });
    const a = entry('t1');
    const b = entry('t2');
    cache.set('a', a);
    cache.set('b', b);
    assert.equal(cache.forgetTenant('t1'), 1);
    assert.ok(wiped(a) && !wiped(b));
    cache.clear();
    assert.ok(wiped(b));
    assert.equal(cache.size, 0);
  });

  it('with ttlMs 0 caches nothing and wipes what it is given', () => {
    const cache = createKeyCache({ maxEntries: 10, ttlMs: 0, now: () => 0 });
    const a = entry();
    cache.set('a', a);
    assert.equal(cache.get('a'), undefined);
    assert.ok(wiped(a));
  });

  it('replacing an entry wipes the old key', () => {
    const cache = createKeyCache({ maxEntries: 10, ttlMs: 500, now: () => 0 });
    const a1 = entry();
    cache.set('a', a1);
    cache.set('a', entry());
    assert.ok(wiped(a1));
  });

  it('refuses bad options at construction', () => {
    for (const bad of [
      { maxEntries: 0, ttlMs: 1 },
      { maxEntries: 1.5, ttlMs: 1 },
      { maxEntries: 1, ttlMs: -1 },
      { maxEntries: 1, ttlMs: Number.NaN },
    ]) {
      assert.throws(
        () => createKeyCache({ ...bad, now: () => 0 }),
        (e) => isCryptoError(e, 'bad_key'),
      );
    }
  });
});
