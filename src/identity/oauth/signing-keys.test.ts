/**
 * Signing keys: encrypted at rest, rotated with an overlap in which old tokens still verify,
 * retired (private key erased) once the overlap ends, and picked up by a ring that did not
 * make the rotation. Also: a token signed by our own key but without `typ: at+jwt` is refused.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { createJwtVerifier } from '../jwt/verifier.ts';
import { issueAccessToken, ownLocalIssuer } from './access-tokens.ts';
import { createSigningKeyRing, overlapMs, rotateSigningKey } from './signing-keys.ts';
import { type OAuthHarness, startOAuthHarness, TEST_CONFIG } from './test-support.ts';

let h: OAuthHarness;
before(async () => {
  h = await startOAuthHarness();
});
after(async () => {
  await h?.close();
  await h?.verifier.close();
});

describe('OAuth signing keys', () => {
  it('stores the private key only as an envelope ciphertext bound to its row', async () => {
    const [rec] = await h.store.listOAuthSigningKeys();
    assert.ok(rec?.privateKey);
    const bytes = Buffer.from(rec.privateKey, 'base64');
    assert.throws(
      () => createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' }),
      'the stored value is not a usable key',
    );
    assert.equal(JSON.parse(rec.publicJwk).d, undefined);
    // Moved to another row, the ciphertext does not decrypt.
    await assert.rejects(
      h.envelope.decrypt(
        { tenant: '_system', table: 'oauth_signing_keys', row: 'other', column: 'private_key' },
        bytes,
      ),
    );
  });

  it('rotation: old and new tokens verify during the overlap; afterwards the old key is retired and erased', async () => {
    let t = Date.now();
    const ring = createSigningKeyRing({
      store: h.store,
      envelope: h.envelope,
      refreshIntervalMs: 60_000,
      now: () => t,
    });
    const verifier = createJwtVerifier([], { localIssuers: [ownLocalIssuer(TEST_CONFIG, ring, h.store)] });
    const client =
      (await h.store.listOAuthClients({}))[0] ?? (await h.store.getOAuthClient((await h.client()).clientId))!;
    const before = await issueAccessToken(ring, TEST_CONFIG, client, [], new Date());
    const oldKid = (await ring.current()).kid;

    const overlap = overlapMs(TEST_CONFIG);
    const rotated = await rotateSigningKey(h.store, h.envelope, 'EdDSA', overlap, new Date(t));
    assert.notEqual(rotated.kid, oldKid);
    assert.equal(rotated.superseded, 1);

    // This ring has not re-read yet: it still signs with the old key (covered by the overlap)…
    assert.equal((await ring.current()).kid, oldKid);
    // …until its refresh interval passes.
    t += 60_000;
    assert.equal((await ring.current()).kid, rotated.kid);
    assert.equal((await ring.current()).alg, 'EdDSA');
    const afterRotation = await issueAccessToken(ring, TEST_CONFIG, client, [], new Date());
    const kids = (await ring.jwks()).keys.map((k) => k.kid);
    assert.deepEqual(kids.sort(), [oldKid, rotated.kid].sort());
    assert.ok((await verifier.verify(before.token)).ok, 'old token verifies in the overlap');
    assert.ok((await verifier.verify(afterRotation.token)).ok, 'new token verifies');

    // A second ring that never saw the rotation learns the new kid on first sight (no restart).
    const other = createSigningKeyRing({ store: h.store, envelope: h.envelope, refreshIntervalMs: 3_600_000 });
    const v2 = createJwtVerifier([], { localIssuers: [ownLocalIssuer(TEST_CONFIG, other, h.store)] });
    assert.ok((await v2.verify(afterRotation.token)).ok);

    t = Date.parse(rotated.retireAfter) + 1;
    await ring.refresh();
    assert.deepEqual(
      (await ring.jwks()).keys.map((k) => k.kid),
      [rotated.kid],
    );
    assert.deepEqual(
      (await h.store.listOAuthSigningKeys()).map((k) => k.kid),
      [rotated.kid],
      'retired key is gone from the store listing',
    );
    const late = await verifier.verify(before.token);
    assert.deepEqual([late.ok, !late.ok && late.reason], [false, 'unknown_kid']);
    await verifier.close();
    await v2.close();
  });

  it('fails closed when the revocation check cannot be made (store error)', async () => {
    const client = (await h.store.getOAuthClient((await h.client()).clientId))!;
    const issued = await issueAccessToken(h.ring, TEST_CONFIG, client, [], new Date());
    const own = ownLocalIssuer(TEST_CONFIG, h.ring, h.store);
    const broken = createJwtVerifier([], {
      localIssuers: [{ ...own, afterVerify: () => Promise.reject(new Error('store down')) }],
    });
    const v = await broken.verify(issued.token);
    assert.deepEqual([v.ok, !v.ok && v.reason], [false, 'check_unavailable']);
    assert.ok((await h.verifier.verify(issued.token)).ok, 'the same token with a working store is fine');
    await broken.close();
  });

  it('a token signed with our key but without typ at+jwt is refused (RFC 9068 §4)', async () => {
    const key = await h.ring.current();
    const now = Math.floor(Date.now() / 1000);
    const client = await h.client();
    const token = await new SignJWT({ client_id: client.clientId, tenant: 'acme', models: ['gpt'] })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(TEST_CONFIG.issuer)
      .setSubject(client.clientId)
      .setAudience(TEST_CONFIG.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti('forged-typ')
      .sign(key.privateKey);
    const v = await h.verifier.verify(token);
    assert.deepEqual([v.ok, !v.ok && v.reason], [false, 'invalid_typ']);
  });
});
