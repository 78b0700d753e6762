/**
 * JWKS caching, rotation and fail-closed behaviour, against an in-memory IdP and a clock the
 * test moves by hand.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { publicKeysOnly } from './key-source.ts';
import { FakeIdp, goodClaims, issuerConfig, makeKey, NOW_S, sign, type TestKey } from './test-support.ts';
import { createJwtVerifier, type JwtVerdict } from './verifier.ts';

const ISS = 'https://idp.example/';
const JWKS = `${ISS}jwks.json`;

function setup(over: Parameters<typeof issuerConfig>[1] = {}) {
  const idp = new FakeIdp();
  const clock = { s: NOW_S };
  const verifier = createJwtVerifier([issuerConfig(ISS, over)], {
    now: () => new Date(clock.s * 1000),
    createFetcher: () => idp,
  });
  // Tokens stay valid whatever the test does to the clock.
  const token = (key: TestKey) => sign(key, goodClaims(ISS, { iat: NOW_S - 10, exp: NOW_S + 100_000 }));
  return { idp, clock, verifier, token };
}

const reason = (v: JwtVerdict): string => (v.ok ? 'ok' : v.reason);

describe('JWKS key source', () => {
  let k1: TestKey, k2: TestKey;
  before(async () => {
    [k1, k2] = await Promise.all([makeKey('ES256', 'k1'), makeKey('ES256', 'k2')]);
  });

  it('fetches once, then serves from cache until the TTL passes', async () => {
    const { idp, clock, verifier, token } = setup();
    idp.publish(JWKS, [k1]);
    const t = await token(k1);
    for (let i = 0; i < 5; i++) assert.equal(reason(await verifier.verify(t)), 'ok');
    assert.equal(idp.count(JWKS), 1);
    clock.s += 601;
    assert.equal(reason(await verifier.verify(t)), 'ok');
    assert.equal(idp.count(JWKS), 2);
  });

  it('picks up a key rotated at the IdP with one refetch on the first token that names it', async () => {
    const { idp, clock, verifier, token } = setup();
    idp.publish(JWKS, [k1]);
    assert.equal(reason(await verifier.verify(await token(k1))), 'ok');
    idp.publish(JWKS, [k1, k2]);
    clock.s += 31;
    assert.equal(reason(await verifier.verify(await token(k2))), 'ok');
    assert.equal(idp.count(JWKS), 2);
    assert.equal(reason(await verifier.verify(await token(k2))), 'ok');
    assert.equal(idp.count(JWKS), 2, 'the new key is now cached');
  });

  it('does not refetch for an unknown kid within the minimum interval of the last fetch', async () => {
    const { idp, clock, verifier, token } = setup();
    idp.publish(JWKS, [k1]);
    assert.equal(reason(await verifier.verify(await token(k1))), 'ok');
    idp.publish(JWKS, [k1, k2]);
    clock.s += 5;
    assert.equal(reason(await verifier.verify(await token(k2))), 'unknown_kid');
    assert.equal(idp.count(JWKS), 1);
    clock.s += 30;
    assert.equal(reason(await verifier.verify(await token(k2))), 'ok');
    assert.equal(idp.count(JWKS), 2);
  });

  it('turns a storm of made-up kids into at most one fetch per interval', async () => {
    const { idp, clock, verifier } = setup();
    idp.publish(JWKS, [k1]);
    const forged = async () => sign({ ...k2, kid: randomUUID() }, goodClaims(ISS, { exp: NOW_S + 100_000 }));
    const storm = async () => {
      const tokens = await Promise.all(Array.from({ length: 50 }, forged));
      const verdicts = await Promise.all(tokens.map((t) => verifier.verify(t)));
      for (const v of verdicts) assert.equal(reason(v), 'unknown_kid');
      for (const t of tokens.slice(0, 10)) assert.equal(reason(await verifier.verify(t)), 'unknown_kid');
    };
    await storm();
    assert.equal(idp.count(JWKS), 1, 'the cold start fetch serves the whole first storm');
    clock.s += 10;
    await storm();
    assert.equal(idp.count(JWKS), 1);
    clock.s += 25;
    await storm();
    assert.equal(idp.count(JWKS), 2, 'one more fetch once the interval has passed');
  });

  it('keeps verifying known kids from cache while the JWKS server is down, and refuses unknown ones', async () => {
    const { idp, clock, verifier, token } = setup();
    idp.publish(JWKS, [k1]);
    assert.equal(reason(await verifier.verify(await token(k1))), 'ok');
    idp.down = true;
    clock.s += 700; // past the TTL: a refetch is attempted and fails
    assert.equal(reason(await verifier.verify(await token(k1))), 'ok');
    assert.equal(idp.count(JWKS), 2);
    clock.s += 60;
    assert.equal(reason(await verifier.verify(await token(k2))), 'unknown_kid');
    clock.s += 25 * 3600; // beyond the stale limit
    assert.equal(reason(await verifier.verify(await token(k1))), 'jwks_unavailable');
  });

  it('refuses every token when the JWKS cannot be fetched and nothing is cached, without hammering the IdP', async () => {
    const { idp, clock, verifier, token } = setup();
    idp.publish(JWKS, [k1]);
    idp.down = true;
    assert.equal(reason(await verifier.verify(await token(k1))), 'jwks_unavailable');
    assert.equal(reason(await verifier.verify(await token(k1))), 'jwks_unavailable');
    assert.equal(idp.count(JWKS), 1);
    idp.down = false;
    clock.s += 30;
    assert.equal(reason(await verifier.verify(await token(k1))), 'ok', 'recovers once the IdP is back');
  });

  it('shares one fetch between concurrent first requests', async () => {
    const { idp, verifier, token } = setup();
    idp.publish(JWKS, [k1]);
    const t = await token(k1);
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(t)));
    assert.ok(verdicts.every((v) => v.ok));
    assert.equal(idp.count(JWKS), 1);
  });

  it('finds the JWKS through the discovery document, which must name the same issuer', async () => {
    const discovery = `${ISS}.well-known/openid-configuration`;
    const { idp, verifier, token } = setup({ jwksUrl: undefined, discoveryUrl: discovery });
    idp.docs.set(discovery, { issuer: ISS, jwks_uri: `${ISS}keys` });
    idp.publish(`${ISS}keys`, [k1]);
    assert.equal(reason(await verifier.verify(await token(k1))), 'ok');

    const other = setup({ jwksUrl: undefined, discoveryUrl: discovery });
    other.idp.docs.set(discovery, { issuer: 'https://evil.example/', jwks_uri: `${ISS}keys` });
    other.idp.publish(`${ISS}keys`, [k1]);
    assert.equal(reason(await other.verifier.verify(await other.token(k1))), 'jwks_unavailable');

    const plain = setup({ jwksUrl: undefined, discoveryUrl: discovery });
    plain.idp.docs.set(discovery, { issuer: ISS, jwks_uri: 'http://idp.example/keys' });
    plain.idp.publish('http://idp.example/keys', [k1]);
    assert.equal(
      reason(await plain.verifier.verify(await plain.token(k1))),
      'jwks_unavailable',
      'jwks_uri must be https',
    );
  });

  it('ignores symmetric keys and keys with private parts in a JWKS', () => {
    const set = publicKeysOnly({
      keys: [
        { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
        { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'private', kid: 'leaked' },
        { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'fine' },
      ],
    });
    assert.deepEqual(
      set.keys.map((k) => k.kid),
      ['fine'],
    );
    assert.throws(() => publicKeysOnly({ keys: 'nope' }), /keys list/);
  });
});
