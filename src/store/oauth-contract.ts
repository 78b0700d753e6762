/**
 * The OAuthStore part of the Store contract (OAuth clients, signing keys, revoked tokens,
 * assertion replay cache). Called by contract.ts inside its per-case setup, so every backend runs it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { minutesAfterBase as at } from './contract-fixtures.ts';
import type { OAuthClientRecord, OAuthSigningKeyRecord } from './oauth-records.ts';
import { type Store, StoreConflictError } from './store.ts';

let n = 0;

export function sampleOAuthClient(over: Partial<OAuthClientRecord> = {}): OAuthClientRecord {
  n++;
  const h = n.toString(16).padStart(8, '0');
  return {
    clientId: `pcc_${h}`,
    tenantId: 't1',
    teamId: null,
    name: `client ${h}`,
    authMethod: 'client_secret_basic',
    secretHash: h.repeat(8),
    jwks: null,
    scopes: ['chat', 'embeddings'],
    allowedModels: ['gpt-*'],
    createdAt: at(n % 50),
    revokedAt: null,
    ...over,
  };
}

function sampleKey(over: Partial<OAuthSigningKeyRecord> = {}): OAuthSigningKeyRecord {
  n++;
  return {
    kid: `kid-${n.toString(16).padStart(6, '0')}`,
    alg: 'ES256',
    publicJwk: '{"kty":"EC"}',
    privateKey: 'AQIDBA==',
    createdAt: at(n % 50),
    supersededAt: null,
    retireAfter: null,
    retiredAt: null,
    ...over,
  };
}

export function runOAuthStoreContract(current: () => Store): void {
  describe('oauth clients', () => {
    it('round-trips every field, lists by tenant in creation order, refuses a duplicate id', async () => {
      const store = current();
      const a = sampleOAuthClient({ tenantId: 'ta', createdAt: at(2), teamId: 'red' });
      const b = sampleOAuthClient({
        tenantId: 'ta',
        createdAt: at(1),
        authMethod: 'private_key_jwt',
        secretHash: null,
        jwks: '{"keys":[{"kty":"OKP"}]}',
        scopes: [],
        allowedModels: ['*', 'claude'],
      });
      const c = sampleOAuthClient({ tenantId: 'tb', createdAt: at(3), authMethod: 'client_secret_post' });
      for (const x of [a, b, c]) await store.insertOAuthClient(x);
      assert.deepEqual(await store.getOAuthClient(a.clientId), a);
      assert.deepEqual(await store.getOAuthClient(b.clientId), b);
      assert.equal(await store.getOAuthClient('pcc_nope'), undefined);
      assert.deepEqual(
        (await store.listOAuthClients({ tenantId: 'ta' })).map((x) => x.clientId),
        [b.clientId, a.clientId],
      );
      assert.deepEqual(
        (await store.listOAuthClients({})).map((x) => x.clientId),
        [b.clientId, a.clientId, c.clientId],
      );
      await assert.rejects(store.insertOAuthClient({ ...c, tenantId: 'other' }), StoreConflictError);
      assert.deepEqual(await store.getOAuthClient(c.clientId), c);
    });

    it('revokes once and keeps the first revocation time', async () => {
      const store = current();
      const c = sampleOAuthClient();
      await store.insertOAuthClient(c);
      assert.equal(await store.revokeOAuthClient(c.clientId, at(5)), true);
      assert.equal(await store.revokeOAuthClient(c.clientId, at(6)), false);
      assert.equal(await store.revokeOAuthClient('pcc_missing', at(6)), false);
      assert.equal((await store.getOAuthClient(c.clientId))?.revokedAt, at(5));
    });
  });

  describe('oauth signing keys', () => {
    it('supersedes all but the new key, publishes until retirement, then erases the private key', async () => {
      const store = current();
      const k1 = sampleKey({ createdAt: at(1) });
      const k2 = sampleKey({ createdAt: at(2), alg: 'EdDSA' });
      await store.insertOAuthSigningKey(k1);
      await assert.rejects(store.insertOAuthSigningKey({ ...k1, alg: 'EdDSA' }), StoreConflictError);
      await store.insertOAuthSigningKey(k2);
      assert.deepEqual(await store.listOAuthSigningKeys(), [k1, k2]);
      assert.equal(await store.supersedeOAuthSigningKeys(k2.kid, at(3), at(13)), 1);
      assert.equal(
        await store.supersedeOAuthSigningKeys(k2.kid, at(4), at(14)),
        0,
        'already superseded keys keep their dates',
      );
      const listed = await store.listOAuthSigningKeys();
      assert.deepEqual(listed, [{ ...k1, supersededAt: at(3), retireAfter: at(13) }, k2]);
      assert.equal(await store.retireOAuthSigningKeys(at(12)), 0);
      assert.equal(await store.retireOAuthSigningKeys(at(13)), 1);
      assert.deepEqual(await store.listOAuthSigningKeys(), [k2]);
      assert.equal(await store.retireOAuthSigningKeys(at(100)), 0, 'the current key is never retired');
    });
  });

  describe('oauth revoked tokens and assertion replay cache', () => {
    it('revocation is idempotent, looked up by jti, and purged after the token expires', async () => {
      const store = current();
      await store.revokeOAuthAccessToken({ jti: 'j1', clientId: 'pcc_a', expiresAt: at(10), revokedAt: at(1) });
      await store.revokeOAuthAccessToken({ jti: 'j1', clientId: 'pcc_a', expiresAt: at(10), revokedAt: at(2) });
      await store.revokeOAuthAccessToken({ jti: 'j2', clientId: 'pcc_a', expiresAt: at(30), revokedAt: at(1) });
      assert.equal(await store.isOAuthAccessTokenRevoked('j1'), true);
      assert.equal(await store.isOAuthAccessTokenRevoked('j3'), false);
      assert.equal(await store.purgeExpiredOAuthRecords(at(10)), 1);
      assert.equal(await store.isOAuthAccessTokenRevoked('j1'), false);
      assert.equal(await store.isOAuthAccessTokenRevoked('j2'), true);
    });

    it('an assertion jti is accepted once per client', async () => {
      const store = current();
      assert.equal(await store.claimOAuthAssertionJti('pcc_a', 'x', at(5)), true);
      assert.equal(await store.claimOAuthAssertionJti('pcc_a', 'x', at(5)), false);
      assert.equal(await store.claimOAuthAssertionJti('pcc_b', 'x', at(5)), true, 'jti is per client (RFC 7523 §3)');
      assert.equal(await store.purgeExpiredOAuthRecords(at(5)), 2);
      assert.equal(await store.claimOAuthAssertionJti('pcc_a', 'x', at(9)), true);
    });
  });
}
