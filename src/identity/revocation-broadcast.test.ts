/**
 * Revocation broadcasts against a real Redis (PORTCULLIS_TEST_REDIS_URL, default local): a
 * revocation published by one process evicts the key from another's cache at once, and while
 * the subscriber's connection is cut (a TCP proxy the test closes) the verifier does not trust
 * its cache, so a revocation made during the outage is refused immediately.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { startTcpProxy } from '../../test/helpers/tcp-proxy.ts';
import type { RedisLimitsConfig } from '../limits/config-types.ts';
import { silentLogger } from '../observability/logger.ts';
import type { ApiKeyRecord, Store } from '../store/store.ts';
import { createApiKey } from './api-keys.ts';
import { createKeyVerifier, type KeyVerifier } from './key-verifier.ts';
import {
  createRevocationListener,
  publishKeyRevocation,
  publishTenantShred,
  type RevocationListener,
} from './revocation-broadcast.ts';

const REDIS_URL = process.env['PORTCULLIS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const redisAt = (url: string): RedisLimitsConfig => ({ url, keyPrefix: `pcl-test-${randomUUID()}:`, timeoutMs: 500 });

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

async function until(what: string, probe: () => boolean, boundMs = 10_000): Promise<void> {
  const end = Date.now() + boundMs;
  while (!probe()) {
    if (Date.now() > end) assert.fail(`${what} did not happen within ${boundMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A verifier with a long TTL, so only a broadcast (or a bypassed cache) can reveal a revocation. */
async function setup(redis: RedisLimitsConfig) {
  const s = countingStore();
  const secret = randomBytes(32);
  let listener: RevocationListener | undefined;
  const verifier: KeyVerifier = createKeyVerifier({
    store: s.store,
    secret,
    cacheTtlMs: 60_000,
    cacheUsable: () => listener?.isSubscribed() ?? false,
  });
  listener = createRevocationListener({
    redis,
    log: silentLogger(),
    onRevoked: (id) => verifier.invalidate(id),
    onResubscribed: () => verifier.invalidate(),
  });
  const { key, record } = await createApiKey(s.store, secret, { tenantId: 't', label: 'l', allowedModels: ['*'] });
  const revokeInStore = () => s.keys.set(record.hash, { ...record, revokedAt: new Date().toISOString() });
  return { s, verifier, listener, key, record, revokeInStore };
}

describe('key revocation broadcasts over Redis', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  test('a published revocation evicts the key from a subscribed verifier at once', async () => {
    const redis = redisAt(REDIS_URL);
    const t = await setup(redis);
    cleanup.push(() => t.listener.close());
    await t.listener.ready();
    assert.equal((await t.verifier.verify(t.key, new Date())).ok, true);
    assert.equal((await t.verifier.verify(t.key, new Date())).ok, true);
    assert.equal(t.s.lookups(), 1, 'while subscribed, the cache is used');

    t.revokeInStore();
    assert.equal(
      (await t.verifier.verify(t.key, new Date())).ok,
      true,
      'without a broadcast the 60 s cache still holds the key',
    );
    assert.equal(await publishKeyRevocation(redis, t.record.id), 1, 'one subscriber received it');
    // Delivery to the subscriber's socket is asynchronous: poll (bounded), no timing assertion.
    const end = Date.now() + 5000;
    let verdict = await t.verifier.verify(t.key, new Date());
    while (verdict.ok && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 10));
      verdict = await t.verifier.verify(t.key, new Date());
    }
    assert.partialDeepStrictEqual(verdict, { ok: false, reason: 'revoked' });
  });

  test('a broadcast under another key prefix does not reach this deployment; junk messages only evict', async () => {
    const redis = redisAt(REDIS_URL);
    const t = await setup(redis);
    cleanup.push(() => t.listener.close());
    await t.listener.ready();
    await t.verifier.verify(t.key, new Date());
    assert.equal(await publishKeyRevocation({ ...redis, keyPrefix: `${redis.keyPrefix}other:` }, t.record.id), 0);
    assert.equal(await publishKeyRevocation(redis, 'x'.repeat(10_000)), 1);
    assert.equal(await publishKeyRevocation(redis, 'not-a-key-id'), 1);
    // A round trip through the same channel orders these before the check below.
    const marker = `marker-${randomUUID()}`;
    const seen: string[] = [];
    const probe = createRevocationListener({ redis, log: silentLogger(), onRevoked: (id) => seen.push(id) });
    cleanup.push(() => probe.close());
    await probe.ready();
    await publishKeyRevocation(redis, marker);
    await until('the marker arrived', () => seen.includes(marker));
    assert.equal((await t.verifier.verify(t.key, new Date())).ok, true);
    assert.equal(t.s.lookups(), 1, 'the key stayed cached: nothing revoked it');
  });

  test('while the subscriber is cut off the cache is bypassed, so a revocation made meanwhile is refused at once', async () => {
    const proxy = await startTcpProxy({
      host: new URL(REDIS_URL).hostname,
      port: Number(new URL(REDIS_URL).port || 6379),
    });
    const viaProxy = new URL(REDIS_URL);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const redis = redisAt(viaProxy.toString());
    const t = await setup(redis);
    cleanup.push(async () => {
      await t.listener.close();
      await proxy.close();
    });
    await t.listener.ready();
    await t.verifier.verify(t.key, new Date());
    assert.equal(t.s.lookups(), 1);

    await proxy.close();
    await until('the listener noticed the cut', () => !t.listener.isSubscribed());
    assert.equal((await t.verifier.verify(t.key, new Date())).ok, true);
    assert.equal(t.s.lookups(), 2, 'the store was asked, not the cache');
    // Revoked while no broadcast can arrive (published straight to Redis, which the listener cannot hear).
    t.revokeInStore();
    assert.equal(await publishKeyRevocation({ ...redis, url: REDIS_URL }, t.record.id), 0, 'nobody is listening');
    assert.partialDeepStrictEqual(await t.verifier.verify(t.key, new Date()), { ok: false, reason: 'revoked' });

    await proxy.reopen();
    await t.listener.ready();
    assert.equal(t.listener.isSubscribed(), true);
    // Resubscribed: broadcasts work again on the new connection.
    const second = await setup(redis);
    cleanup.push(() => second.listener.close());
    await second.listener.ready();
    second.s.keys.clear();
    assert.equal(
      await publishKeyRevocation({ ...redis, url: REDIS_URL }, 'after-reconnect'),
      2,
      'both listeners are subscribed',
    );
  });

  test('never subscribed (Redis unreachable): the cache is never used, and publishing reports failure without throwing', async () => {
    const redis = redisAt('redis://127.0.0.1:1');
    const t = await setup(redis);
    cleanup.push(() => t.listener.close());
    for (let i = 0; i < 3; i++) assert.equal((await t.verifier.verify(t.key, new Date())).ok, true);
    assert.equal(t.s.lookups(), 3);
    assert.equal(t.listener.isSubscribed(), false);
    assert.equal(await publishKeyRevocation(redis, t.record.id), undefined);
    await assert.rejects(t.listener.ready(300), /not subscribed/);
  });

  test('tenant shreds travel on their own channel: they reach onTenantShredded, never onRevoked, and stay within the key prefix', async () => {
    const redis = redisAt(REDIS_URL);
    const revoked: string[] = [];
    const shredded: string[] = [];
    const listener = createRevocationListener({
      redis,
      log: silentLogger(),
      onRevoked: (id) => revoked.push(id),
      onTenantShredded: (t) => shredded.push(t),
    });
    cleanup.push(() => listener.close());
    await listener.ready();
    assert.equal(
      await publishTenantShred({ ...redis, keyPrefix: `${redis.keyPrefix}other:` }, 'elsewhere'),
      0,
      'another deployment hears nothing',
    );
    assert.equal(await publishTenantShred(redis, 'x'.repeat(10_000)), 1);
    assert.equal(await publishTenantShred(redis, 'acme'), 1);
    await until('the shred arrived', () => shredded.includes('acme'));
    assert.deepEqual(shredded, ['acme'], 'oversized ids and other prefixes are ignored');
    assert.deepEqual(revoked, [], 'a shred is not a key revocation');
    // A listener that does not ask for shreds (a process without encryption) is not subscribed to them.
    const keysOnly = createRevocationListener({ redis, log: silentLogger(), onRevoked: () => undefined });
    cleanup.push(() => keysOnly.close());
    await keysOnly.ready();
    assert.equal(await publishTenantShred(redis, 'acme'), 1, 'only the listener that asked for shreds receives them');
    assert.equal(
      await publishTenantShred(undefined, 'acme'),
      undefined,
      'without Redis there is nothing to publish to',
    );
  });
});
