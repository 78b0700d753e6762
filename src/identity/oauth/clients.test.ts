/** Client registration: bad input is refused before anything is stored; only a bound keyed hash of the secret is kept. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { clientSecretMatches, hashClientSecret } from './client-secret.ts';
import { createOAuthClient, OAuthClientInputError, validateClientJwks } from './clients.ts';
import { type OAuthHarness, startOAuthHarness } from './test-support.ts';

let h: OAuthHarness;
before(async () => {
  h = await startOAuthHarness();
});
after(async () => {
  await h?.close();
  await h?.verifier.close();
});

const base = {
  tenantId: 'acme',
  name: 'svc',
  authMethod: 'client_secret_basic' as const,
  scopes: ['chat'],
  allowedModels: ['*'],
};

describe('OAuth client registration', () => {
  it('stores a keyed hash bound to the client id, never the secret', async () => {
    const { record, clientSecret } = await createOAuthClient(h.store, h.serverSecret, base);
    assert.ok(clientSecret);
    const stored = await h.store.getOAuthClient(record.clientId);
    assert.ok(stored?.secretHash);
    assert.ok(!JSON.stringify(stored).includes(clientSecret));
    assert.equal(clientSecretMatches(record.clientId, clientSecret, stored.secretHash, h.serverSecret), true);
    assert.equal(
      clientSecretMatches(record.clientId, clientSecret, stored.secretHash, randomBytes(32)),
      false,
      'another server secret',
    );
    const other = await createOAuthClient(h.store, h.serverSecret, base);
    assert.equal(
      clientSecretMatches(other.record.clientId, clientSecret, stored.secretHash, h.serverSecret),
      false,
      'hash moved to another client',
    );
    assert.notEqual(hashClientSecret('pcc_a', 's', h.serverSecret), hashClientSecret('pcc_b', 's', h.serverSecret));
  });

  it('refuses bad scopes, models, names and a JWKS on a secret client, storing nothing', async () => {
    const before = (await h.store.listOAuthClients({})).length;
    for (const bad of [
      { scopes: ['has space'] },
      { scopes: ['quote"d'] },
      { allowedModels: [] },
      { name: '' },
      { tenantId: 'a\nb' },
      { jwks: '{"keys":[]}' },
      { authMethod: 'none' as never },
    ]) {
      await assert.rejects(
        createOAuthClient(h.store, h.serverSecret, { ...base, ...bad }),
        OAuthClientInputError,
        JSON.stringify(bad),
      );
    }
    assert.equal((await h.store.listOAuthClients({})).length, before);
  });

  it('private_key_jwt needs public, asymmetric, usable keys', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const pub = await exportJWK(publicKey);
    const priv = await exportJWK(privateKey);
    const ok = await createOAuthClient(h.store, h.serverSecret, {
      ...base,
      authMethod: 'private_key_jwt',
      jwks: JSON.stringify({ keys: [pub] }),
    });
    assert.equal(ok.clientSecret, undefined);
    assert.equal(ok.record.secretHash, null);
    await assert.rejects(validateClientJwks(JSON.stringify({ keys: [priv] })), /private key material/);
    await assert.rejects(validateClientJwks(JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })), /kty/);
    await assert.rejects(validateClientJwks(JSON.stringify({ keys: [{ ...pub, x: 'AAAA' }] })), /usable/);
    await assert.rejects(validateClientJwks('not json'), /JSON/);
    await assert.rejects(
      createOAuthClient(h.store, h.serverSecret, { ...base, authMethod: 'private_key_jwt' }),
      /JWKS/,
    );
  });
});
