/**
 * The JWT attack table, jose-style: one table of tokens against a frozen clock, each with the
 * verdict it must get. Every forged or out-of-policy token is built the way an attacker would.
 */

import assert from 'node:assert/strict';
import { createHmac, createPublicKey, KeyObject, sign as nodeSign } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { FakeIdp, frozenClock, goodClaims, issuerConfig, makeKey, NOW_S, sign, type TestKey } from './test-support.ts';
import { createJwtVerifier, type JwtVerifier } from './verifier.ts';

const A = 'https://idp-a.example/';
const B = 'https://idp-b.example/';

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Signs exactly the header given (jose would refuse to produce some of these), RS256 only. */
function signRawRs256(key: TestKey, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const sig = nodeSign('sha256', Buffer.from(input), KeyObject.from(key.privateKey));
  return `${input}.${sig.toString('base64url')}`;
}

describe('JWT verifier: valid tokens and the attack table', () => {
  let rsa: TestKey, ec: TestKey, ed: TestKey, bKey: TestKey, attacker: TestKey;
  let idp: FakeIdp;
  let verifier: JwtVerifier;

  before(async () => {
    [rsa, ec, ed, bKey, attacker] = await Promise.all([
      makeKey('RS256', 'a-rsa'),
      makeKey('ES256', 'a-ec'),
      makeKey('EdDSA', 'a-ed'),
      makeKey('RS256', 'b-rsa'),
      makeKey('RS256', 'evil'),
    ]);
    idp = new FakeIdp();
    idp.publish(`${A}jwks.json`, [rsa, ec, ed]);
    idp.publish(`${B}jwks.json`, [bKey]);
    verifier = createJwtVerifier([issuerConfig(A), issuerConfig(B)], { now: frozenClock, createFetcher: () => idp });
  });

  for (const name of ['RS256', 'ES256', 'EdDSA'] as const) {
    it(`accepts a valid ${name} token and maps its claims`, async () => {
      const key = name === 'RS256' ? rsa : name === 'ES256' ? ec : ed;
      const v = await verifier.verify(await sign(key, goodClaims(A)));
      assert.equal(v.ok, true, JSON.stringify(v));
      if (!v.ok) return;
      assert.equal(v.identity.tenantId, 'acme');
      assert.equal(v.identity.teamId, 'ml');
      assert.equal(v.identity.subject, 'user-1');
      assert.deepEqual(v.identity.allowedModels, ['gpt', 'claude*']);
      assert.deepEqual(v.identity.scopes, ['chat', 'embed']);
      assert.match(v.identity.keyId, /^jwt:[A-Za-z0-9_-]{22}$/);
    });
  }

  it('accepts a token just past exp but within the clock skew, and an audience list containing ours', async () => {
    const v = await verifier.verify(await sign(rsa, goodClaims(A, { exp: NOW_S - 10, aud: ['other', 'portcullis'] })));
    assert.equal(v.ok, true, JSON.stringify(v));
  });

  it('gives a token without a models claim the issuer default (none), never everything', async () => {
    const claims = goodClaims(A);
    delete claims['models'];
    const v = await verifier.verify(await sign(rsa, claims));
    assert.ok(v.ok);
    if (v.ok) assert.deepEqual(v.identity.allowedModels, []);
  });

  const attacks: { name: string; token: () => Promise<string> | string; reason: string }[] = [
    {
      name: 'alg none, empty signature',
      reason: 'missing_signature',
      token: () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(goodClaims(A))}.`,
    },
    {
      name: 'alg none with a made-up signature',
      reason: 'alg_not_allowed',
      token: () => `${b64({ alg: 'none' })}.${b64(goodClaims(A))}.${b64('x')}`,
    },
    {
      name: 'HS256 signed with the RSA public key bytes (HS/RS confusion)',
      reason: 'alg_not_allowed',
      token: () => {
        // The public key as the IdP publishes it (SPKI PEM), used as an HMAC secret.
        const publicPem = createPublicKey(KeyObject.from(rsa.privateKey)).export({ format: 'pem', type: 'spki' });
        const input = `${b64({ alg: 'HS256', kid: 'a-rsa' })}.${b64(goodClaims(A))}`;
        return `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
      },
    },
    { name: 'expired', reason: 'expired', token: () => sign(rsa, goodClaims(A, { exp: NOW_S - 120 })) },
    {
      name: 'not yet valid (nbf beyond the skew)',
      reason: 'not_yet_valid',
      token: () => sign(rsa, goodClaims(A, { nbf: NOW_S + 120 })),
    },
    {
      name: 'issued in the future',
      reason: 'iat_in_future',
      token: () => sign(rsa, goodClaims(A, { iat: NOW_S + 3600 })),
    },
    {
      name: 'unknown issuer',
      reason: 'unknown_issuer',
      token: () => sign(rsa, goodClaims(A, { iss: 'https://evil.example/' })),
    },
    {
      name: 'issuer differing only by a trailing slash',
      reason: 'unknown_issuer',
      token: () => sign(rsa, goodClaims(A, { iss: A.slice(0, -1) })),
    },
    {
      name: 'missing iss',
      reason: 'missing_iss',
      token: () => {
        const c = goodClaims(A);
        delete c.iss;
        return sign(rsa, c);
      },
    },
    {
      name: 'wrong audience',
      reason: 'wrong_audience',
      token: () => sign(rsa, goodClaims(A, { aud: 'someone-else' })),
    },
    {
      name: 'missing audience',
      reason: 'missing_aud',
      token: () => {
        const c = goodClaims(A);
        delete c.aud;
        return sign(rsa, c);
      },
    },
    { name: 'unknown kid', reason: 'unknown_kid', token: () => sign(attacker, goodClaims(A)) },
    {
      name: 'jku header pointing at the attacker',
      reason: 'header_jku_refused',
      token: () => sign(attacker, goodClaims(A), { jku: 'https://evil.example/jwks.json' }),
    },
    {
      name: 'x5u header',
      reason: 'header_x5u_refused',
      token: () => sign(attacker, goodClaims(A), { x5u: 'https://evil.example/cert.pem' }),
    },
    {
      name: 'embedded jwk header with the attacker key',
      reason: 'header_jwk_refused',
      token: () => sign(attacker, goodClaims(A), { jwk: attacker.publicJwk, kid: undefined }),
    },
    { name: 'x5c header', reason: 'header_x5c_refused', token: () => sign(attacker, goodClaims(A), { x5c: ['MIIB'] }) },
    {
      name: 'stripped signature (header.payload.)',
      reason: 'missing_signature',
      token: async () => `${(await sign(rsa, goodClaims(A))).split('.').slice(0, 2).join('.')}.`,
    },
    {
      name: 'ES256 all-zero signature (r = s = 0, CVE-2022-21449)',
      reason: 'bad_signature',
      token: async () =>
        `${(await sign(ec, goodClaims(A))).split('.').slice(0, 2).join('.')}.${Buffer.alloc(64).toString('base64url')}`,
    },
    {
      name: 'payload swapped under a valid signature',
      reason: 'bad_signature',
      token: async () => {
        const [h, , s] = (await sign(rsa, goodClaims(A))).split('.');
        return `${h}.${b64(goodClaims(A, { tenant: 'victim', models: ['*'] }))}.${s}`;
      },
    },
    {
      name: 'missing exp',
      reason: 'missing_exp',
      token: () => {
        const c = goodClaims(A);
        delete c.exp;
        return sign(rsa, c);
      },
    },
    {
      name: 'unknown crit extension',
      reason: 'crit_unsupported',
      token: () =>
        signRawRs256(rsa, { alg: 'RS256', kid: 'a-rsa', crit: ['urn:x-bypass'], 'urn:x-bypass': true }, goodClaims(A)),
    },
    {
      name: 'b64=false (unencoded payload)',
      reason: 'b64_unsupported',
      token: () => signRawRs256(rsa, { alg: 'RS256', kid: 'a-rsa', b64: false }, goodClaims(A)),
    },
    {
      name: 'oversized token',
      reason: 'token_too_large',
      token: () => sign(rsa, goodClaims(A, { pad: 'x'.repeat(9000) })),
    },
    { name: 'garbage base64', reason: 'malformed', token: () => 'eyJ!!.e30.c2ln' },
    {
      name: 'header that is not JSON',
      reason: 'malformed_header',
      token: () => `${b64('not json')}.${b64(goodClaims(A))}.c2ln`,
    },
    {
      name: 'header that is a JSON array',
      reason: 'malformed_header',
      token: () => `${b64([1])}.${b64(goodClaims(A))}.c2ln`,
    },
    { name: 'four parts', reason: 'malformed', token: async () => `${await sign(rsa, goodClaims(A))}.e30` },
    {
      name: "token of issuer A signed with issuer B's key",
      reason: 'unknown_kid',
      token: () => sign(bKey, goodClaims(A)),
    },
    {
      name: "issuer B's key relabelled with issuer A's kid",
      reason: 'bad_signature',
      token: () => sign({ ...bKey, kid: 'a-rsa' }, goodClaims(A)),
    },
    {
      name: 'RSA kid used with an ES256 header',
      reason: 'unknown_kid',
      token: async () => {
        const [, p, s] = (await sign(rsa, goodClaims(A))).split('.');
        return `${b64({ alg: 'ES256', kid: 'a-rsa' })}.${p}.${s}`;
      },
    },
    {
      name: 'missing tenant claim',
      reason: 'missing_tenant_claim',
      token: () => {
        const c = goodClaims(A);
        delete c['tenant'];
        return sign(rsa, c);
      },
    },
    {
      name: 'missing subject',
      reason: 'missing_user_claim',
      token: () => {
        const c = goodClaims(A);
        delete c.sub;
        return sign(rsa, c);
      },
    },
    {
      name: 'tenant claim that is not a string',
      reason: 'invalid_tenant_claim',
      token: () => sign(rsa, goodClaims(A, { tenant: { id: 1 } })),
    },
    {
      name: 'models claim that is not a list of names',
      reason: 'invalid_models_claim',
      token: () => sign(rsa, goodClaims(A, { models: [1, 2] })),
    },
  ];

  for (const a of attacks) {
    it(`refuses: ${a.name}`, async () => {
      const v = await verifier.verify(await a.token());
      assert.equal(v.ok, false, `${a.name} was accepted`);
      if (!v.ok) assert.equal(v.reason, a.reason);
    });
  }

  it('refuses an algorithm the issuer does not allow even when the key would verify it', async () => {
    const strict = createJwtVerifier([issuerConfig(A, { algorithms: ['ES256'] })], {
      now: frozenClock,
      createFetcher: () => idp,
    });
    const v = await strict.verify(await sign(rsa, goodClaims(A)));
    assert.deepEqual(v.ok ? 'accepted' : v.reason, 'alg_not_allowed');
  });

  it('refuses HMAC, none and unknown algorithms in the issuer config at startup', () => {
    for (const alg of ['HS256', 'none', 'XX1']) {
      assert.throws(
        () => createJwtVerifier([issuerConfig(A, { algorithms: [alg as 'RS256'] })], { createFetcher: () => idp }),
        /not allowed/,
      );
    }
    assert.throws(() => createJwtVerifier([], {}), /at least one issuer/);
    assert.throws(
      () => createJwtVerifier([issuerConfig(A, { audiences: [] })], { createFetcher: () => idp }),
      /audience/,
    );
  });

  it('reports the issuer and kid of a refused token for the security log, never the token', async () => {
    const token = await sign(attacker, goodClaims(A));
    const v = await verifier.verify(token);
    assert.equal(v.ok, false);
    if (v.ok) return;
    assert.equal(v.issuer, A);
    assert.equal(v.kid, 'evil');
    assert.ok(!JSON.stringify(v).includes(token.split('.')[2]!));
  });
});
