import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { ApiKeyRecord, Store } from '../store/store.ts';
import { generateApiKey } from './api-key-format.ts';
import { createApiKey } from './api-keys.ts';
import { createKeyVerifier } from './key-verifier.ts';

/** A store that counts lookups; only what the verifier and createApiKey need. */
function countingStore() {
  const keys = new Map<string, ApiKeyRecord>();
  let lookups = 0;
  const store = {
    async insertApiKey(k: ApiKeyRecord) {
      keys.set(k.hash, k);
    },
    async findApiKeyByHash(h: string) {
      lookups++;
      return keys.get(h);
    },
  } as unknown as Store;
  return { store, keys, lookups: () => lookups };
}

test('caches found keys for the TTL, then asks the store again and sees a revocation', async () => {
  const s = countingStore();
  const secret = randomBytes(32);
  let t = 0;
  const v = createKeyVerifier({ store: s.store, secret, cacheTtlMs: 1000, clock: () => t });
  const { key, record } = await createApiKey(s.store, secret, { tenantId: 't', label: 'l', allowedModels: ['*'] });
  const now = new Date();
  assert.equal((await v.verify(key, now)).ok, true);
  assert.equal((await v.verify(key, now)).ok, true);
  assert.equal(s.lookups(), 1, 'second check served from cache');
  s.keys.set(record.hash, { ...record, revokedAt: now.toISOString() });
  t = 999;
  assert.equal((await v.verify(key, now)).ok, true, 'still cached just before the TTL');
  t = 1001;
  assert.partialDeepStrictEqual(await v.verify(key, now), { ok: false, reason: 'revoked' });
  assert.equal(s.lookups(), 2);
});

test('invalidate drops a key at once; unknown keys are never cached', async () => {
  const s = countingStore();
  const secret = randomBytes(32);
  const v = createKeyVerifier({ store: s.store, secret, cacheTtlMs: 60_000 });
  const { key, record } = await createApiKey(s.store, secret, { tenantId: 't', label: 'l', allowedModels: ['*'] });
  await v.verify(key, new Date());
  s.keys.set(record.hash, { ...record, revokedAt: new Date().toISOString() });
  v.invalidate(record.id);
  assert.partialDeepStrictEqual(await v.verify(key, new Date()), { ok: false, reason: 'revoked' });
  const stranger = generateApiKey();
  for (let i = 0; i < 3; i++) assert.deepEqual(await v.verify(stranger, new Date()), { ok: false, reason: 'unknown' });
  assert.equal(s.lookups(), 5, 'every unknown key goes to the store');
  assert.deepEqual(await v.verify('pcl_garbage', new Date()), { ok: false, reason: 'malformed' });
  assert.equal(s.lookups(), 5, 'malformed keys never do');
});

test('expiry is judged on every request, even from cache', async () => {
  const s = countingStore();
  const secret = randomBytes(32);
  const v = createKeyVerifier({ store: s.store, secret });
  const expiresAt = new Date(Date.now() + 60_000).toISOString();
  const { key } = await createApiKey(s.store, secret, { tenantId: 't', label: 'l', allowedModels: ['*'], expiresAt });
  assert.equal((await v.verify(key, new Date())).ok, true);
  assert.partialDeepStrictEqual(await v.verify(key, new Date(Date.now() + 120_000)), { ok: false, reason: 'expired' });
});

test('bad options fail at construction', () => {
  const store = countingStore().store;
  assert.throws(() => createKeyVerifier({ store, secret: randomBytes(8) }), /32 bytes/);
  assert.throws(() => createKeyVerifier({ store, secret: randomBytes(32), cacheTtlMs: -1 }), /cacheTtlMs/);
});

test('a lookup that races with an invalidation does not cache the record it read', async () => {
  const s = countingStore();
  const secret = randomBytes(32);
  const v = createKeyVerifier({ store: s.store, secret, cacheTtlMs: 60_000 });
  const { key, record } = await createApiKey(s.store, secret, { tenantId: 't', label: 'l', allowedModels: ['*'] });
  // The store answers with the still-active record, and the revocation lands before that answer is used.
  const find = s.store.findApiKeyByHash.bind(s.store);
  (s.store as { findApiKeyByHash: Store['findApiKeyByHash'] }).findApiKeyByHash = async (h) => {
    const found = await find(h);
    s.keys.set(record.hash, { ...record, revokedAt: new Date().toISOString() });
    v.invalidate(record.id);
    return found;
  };
  assert.equal((await v.verify(key, new Date())).ok, true, 'the racing request saw the key before the revocation');
  (s.store as { findApiKeyByHash: Store['findApiKeyByHash'] }).findApiKeyByHash = find;
  const after = await v.verify(key, new Date());
  assert.deepEqual([after.ok, 'reason' in after ? after.reason : undefined], [false, 'revoked']);
  assert.equal(s.lookups(), 2, 'the stale answer was not cached');
});

test('while cacheUsable says no, every check asks the store', async () => {
  const s = countingStore();
  const secret = randomBytes(32);
  let usable = false;
  const v = createKeyVerifier({ store: s.store, secret, cacheTtlMs: 60_000, cacheUsable: () => usable });
  const { key } = await createApiKey(s.store, secret, { tenantId: 't', label: 'l', allowedModels: ['*'] });
  for (let i = 0; i < 3; i++) await v.verify(key, new Date());
  assert.equal(s.lookups(), 3);
  usable = true;
  for (let i = 0; i < 3; i++) await v.verify(key, new Date());
  assert.equal(s.lookups(), 4, 'cached again once usable');
});
