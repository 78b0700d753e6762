/**
 * The OAuth endpoints attacked one way after another: every refusal must be the RFC 6749 §5.2
 * error it is documented as, and nothing must be issued, revoked or disclosed by it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { createLockout } from '../lockout.ts';
import { clientLockoutSubjects, JWT_BEARER_ASSERTION } from './client-auth.ts';
import { basicAuth, type OAuthHarness, startOAuthHarness, TEST_ISSUER } from './test-support.ts';

const TOKEN_URL = `${TEST_ISSUER}/oauth/token`;
let h: OAuthHarness;
let basicClient: { clientId: string; clientSecret: string };
let jwtKey: { privateKey: CryptoKey; jwk: JWK };
let jwtClientId: string;

const form = (o: Record<string, string>): string => new URLSearchParams(o).toString();
const CC = form({ grant_type: 'client_credentials' });

async function assertion(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  key: CryptoKey = jwtKey.privateKey,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: jwtClientId,
    sub: jwtClientId,
    aud: TOKEN_URL,
    jti: randomUUID(),
    iat: now,
    exp: now + 60,
    ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', kid: 'client-key-1', ...header })
    .sign(key);
}

const withAssertion = (a: string, extra: Record<string, string> = {}): string =>
  form({
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER_ASSERTION,
    client_assertion: a,
    ...extra,
  });

function assertOAuthError(r: { status: number; headers: Headers; json: unknown }, status: number, error: string): void {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.ok(typeof r.json === 'object' && r.json !== null, 'a JSON object');
  const body = r.json as Record<string, unknown>;
  assert.equal(body.error, error);
  assert.equal(typeof body.error_description, 'string');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.equal(body.access_token, undefined);
  if (error === 'invalid_client') assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm=/);
}

before(async () => {
  h = await startOAuthHarness();
  basicClient = (await h.client()) as { clientId: string; clientSecret: string };
  const pair = await generateKeyPair('ES256', { extractable: true });
  jwtKey = {
    privateKey: pair.privateKey,
    jwk: { ...(await exportJWK(pair.publicKey)), kid: 'client-key-1', alg: 'ES256', use: 'sig' },
  };
  jwtClientId = (await h.client({ authMethod: 'private_key_jwt', jwks: JSON.stringify({ keys: [jwtKey.jwk] }) }))
    .clientId;
});
after(async () => {
  await h?.close();
  await h?.verifier.close();
});

describe('POST /oauth/token: client_secret_basic and client_secret_post', () => {
  it('issues an RFC 9068 token the resource-server path accepts, with tenant, team, models and scopes', async () => {
    const r = await h.post('/oauth/token', CC, basicAuth(basicClient.clientId, basicClient.clientSecret));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.json.token_type, 'Bearer');
    assert.equal(r.json.expires_in, 300);
    assert.equal(r.json.scope, 'chat embeddings');
    const v = await h.verifier.verify(r.json.access_token);
    assert.ok(v.ok, JSON.stringify(v));
    assert.equal(v.identity.subject, basicClient.clientId);
    assert.equal(v.identity.tenantId, 'acme');
    assert.equal(v.identity.teamId, 'data');
    assert.deepEqual(v.identity.allowedModels, ['gpt']);
    assert.deepEqual(v.identity.scopes, ['chat', 'embeddings']);
  });

  it('narrows scopes on request and refuses scopes the client does not have', async () => {
    const auth = basicAuth(basicClient.clientId, basicClient.clientSecret);
    const narrowed = await h.post(
      '/oauth/token',
      form({ grant_type: 'client_credentials', scope: 'embeddings' }),
      auth,
    );
    assert.equal(narrowed.json.scope, 'embeddings');
    assertOAuthError(
      await h.post('/oauth/token', form({ grant_type: 'client_credentials', scope: 'chat admin' }), auth),
      400,
      'invalid_scope',
    );
    assertOAuthError(
      await h.post('/oauth/token', form({ grant_type: 'client_credentials', scope: 'chat  embeddings' }), auth),
      400,
      'invalid_scope',
    );
  });

  it('refuses a wrong secret, an unknown client, a malformed id and no credentials with invalid_client', async () => {
    const wrong = `${basicClient.clientSecret.slice(0, -1)}${basicClient.clientSecret.endsWith('A') ? 'B' : 'A'}`;
    assertOAuthError(await h.post('/oauth/token', CC, basicAuth(basicClient.clientId, wrong)), 401, 'invalid_client');
    assert.equal(h.lastReason(), 'wrong_secret');
    assertOAuthError(
      await h.post('/oauth/token', CC, basicAuth('pcc_AAAAAAAAAAAAAAAAAAAAAA', basicClient.clientSecret)),
      401,
      'invalid_client',
    );
    assert.equal(h.lastReason(), 'unknown_client');
    assert.ok(!h.logText().includes(wrong) && !h.logText().includes(basicClient.clientSecret), 'no secret in the log');
    assertOAuthError(await h.post('/oauth/token', CC, basicAuth('admin', 'admin')), 401, 'invalid_client');
    assertOAuthError(await h.post('/oauth/token', CC), 401, 'invalid_client');
    assertOAuthError(
      await h.post('/oauth/token', form({ grant_type: 'client_credentials', client_id: basicClient.clientId })),
      401,
      'invalid_client',
    );
  });

  it('a client uses only the method it registered', async () => {
    const post = form({
      grant_type: 'client_credentials',
      client_id: basicClient.clientId,
      client_secret: basicClient.clientSecret,
    });
    assertOAuthError(await h.post('/oauth/token', post), 401, 'invalid_client');
    const postClient = await h.client({ authMethod: 'client_secret_post' });
    const ok = await h.post(
      '/oauth/token',
      form({
        grant_type: 'client_credentials',
        client_id: postClient.clientId,
        client_secret: postClient.clientSecret!,
      }),
    );
    assert.equal(ok.status, 200);
    assertOAuthError(
      await h.post('/oauth/token', CC, basicAuth(postClient.clientId, postClient.clientSecret!)),
      401,
      'invalid_client',
    );
  });

  it('refuses two authentication methods at once, a non-form body, URL parameters and repeated parameters', async () => {
    const auth = basicAuth(basicClient.clientId, basicClient.clientSecret);
    assertOAuthError(
      await h.post(
        '/oauth/token',
        form({ grant_type: 'client_credentials', client_secret: 'x', client_id: basicClient.clientId }),
        auth,
      ),
      400,
      'invalid_request',
    );
    assertOAuthError(
      await h.post('/oauth/token', JSON.stringify({ grant_type: 'client_credentials' }), {
        ...auth,
        'content-type': 'application/json',
      }),
      400,
      'invalid_request',
    );
    assertOAuthError(
      await h.post(`/oauth/token?client_secret=${basicClient.clientSecret}`, CC, auth),
      400,
      'invalid_request',
    );
    assertOAuthError(
      await h.post('/oauth/token', 'grant_type=client_credentials&grant_type=client_credentials', auth),
      400,
      'invalid_request',
    );
    assertOAuthError(await h.post('/oauth/token', CC, { authorization: 'Bearer abc' }), 400, 'invalid_request');
  });

  it('client_credentials only: other grants are unsupported_grant_type, none is invalid_request', async () => {
    const auth = basicAuth(basicClient.clientId, basicClient.clientSecret);
    assertOAuthError(
      await h.post('/oauth/token', form({ grant_type: 'password', username: 'a', password: 'b' }), auth),
      400,
      'unsupported_grant_type',
    );
    assertOAuthError(await h.post('/oauth/token', form({ scope: 'chat' }), auth), 400, 'invalid_request');
  });

  it('a revoked client gets invalid_client and its outstanding tokens are refused', async () => {
    const c = await h.client();
    const auth = basicAuth(c.clientId, c.clientSecret!);
    const token = (await h.post('/oauth/token', CC, auth)).json.access_token as string;
    assert.ok((await h.verifier.verify(token)).ok);
    await h.store.revokeOAuthClient(c.clientId, new Date().toISOString());
    assertOAuthError(await h.post('/oauth/token', CC, auth), 401, 'invalid_client');
    assert.equal(h.lastReason(), 'client_revoked');
    const v = await h.verifier.verify(token);
    assert.deepEqual([v.ok, !v.ok && v.reason], [false, 'client_revoked']);
  });
});

describe('POST /oauth/token: private_key_jwt (RFC 7523)', () => {
  it('accepts a fresh assertion signed by a registered key, once', async () => {
    const a = await assertion();
    const r = await h.post('/oauth/token', withAssertion(a));
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assertOAuthError(await h.post('/oauth/token', withAssertion(a)), 401, 'invalid_client');
    assert.equal(h.lastReason(), 'assertion_replayed');
  });

  it('accepts the issuer as audience', async () => {
    assert.equal((await h.post('/oauth/token', withAssertion(await assertion({ aud: TEST_ISSUER })))).status, 200);
  });

  const attacks: Array<[string, string, () => Promise<string>]> = [
    ['wrong audience', 'assertion_wrong_audience', () => assertion({ aud: 'https://other.example/oauth/token' })],
    [
      'expired',
      'assertion_expired',
      () => assertion({ exp: Math.floor(Date.now() / 1000) - 120, iat: Math.floor(Date.now() / 1000) - 180 }),
    ],
    [
      'no exp',
      'assertion_missing_exp',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ iss: jwtClientId, sub: jwtClientId, aud: TOKEN_URL, jti: randomUUID(), iat: now })
          .setProtectedHeader({ alg: 'ES256', kid: 'client-key-1' })
          .sign(jwtKey.privateKey);
      },
    ],
    [
      'lifetime too long',
      'assertion_lifetime_too_long',
      () => assertion({ exp: Math.floor(Date.now() / 1000) + 3600 }),
    ],
    ['no jti', 'assertion_missing_jti', () => assertion({ jti: undefined })],
    ['iss differs from sub', 'assertion_invalid_iss', () => assertion({ iss: basicClient.clientId })],
    [
      'signed by an unregistered key',
      'assertion_bad_signature',
      async () => assertion({}, {}, (await generateKeyPair('ES256')).privateKey),
    ],
    [
      'alg none',
      'assertion_missing_signature',
      async () => {
        const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
        const now = Math.floor(Date.now() / 1000);
        return `${enc({ alg: 'none' })}.${enc({ iss: jwtClientId, sub: jwtClientId, aud: TOKEN_URL, jti: randomUUID(), exp: now + 60 })}.`;
      },
    ],
    [
      'HS256 with the public key as secret',
      'assertion_alg_not_allowed',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ iss: jwtClientId, sub: jwtClientId, aud: TOKEN_URL, jti: randomUUID(), exp: now + 60 })
          .setProtectedHeader({ alg: 'HS256', kid: 'client-key-1' })
          .sign(new TextEncoder().encode(JSON.stringify(jwtKey.jwk)));
      },
    ],
    ['embedded jwk header', 'assertion_header_jwk_refused', async () => assertion({}, { jwk: jwtKey.jwk })],
    [
      'tampered payload',
      'assertion_bad_signature',
      async () => {
        const [hd, , sig] = (await assertion()).split('.');
        const now = Math.floor(Date.now() / 1000);
        const body = Buffer.from(
          JSON.stringify({ iss: jwtClientId, sub: jwtClientId, aud: TOKEN_URL, jti: randomUUID(), exp: now + 60 }),
        ).toString('base64url');
        return `${hd}.${body}.${sig}`;
      },
    ],
  ];
  for (const [name, reason, make] of attacks) {
    it(`refuses an assertion: ${name}`, async () => {
      assertOAuthError(await h.post('/oauth/token', withAssertion(await make())), 401, 'invalid_client');
      assert.equal(h.lastReason(), reason);
    });
  }

  it('refuses an assertion for a client registered with a secret, and a wrong assertion type', async () => {
    const a = await assertion({ iss: basicClient.clientId, sub: basicClient.clientId });
    assertOAuthError(await h.post('/oauth/token', withAssertion(a)), 401, 'invalid_client');
    assertOAuthError(
      await h.post(
        '/oauth/token',
        form({ grant_type: 'client_credentials', client_assertion_type: 'urn:x', client_assertion: await assertion() }),
      ),
      400,
      'invalid_request',
    );
    assertOAuthError(
      await h.post('/oauth/token', withAssertion(await assertion(), { client_id: basicClient.clientId })),
      401,
      'invalid_client',
    );
  });
});

describe('POST /oauth/revoke and /oauth/introspect', () => {
  async function token(c = basicClient): Promise<string> {
    return (await h.post('/oauth/token', CC, basicAuth(c.clientId, c.clientSecret))).json.access_token as string;
  }

  it('a client revokes its own token: 200, and the token is refused afterwards', async () => {
    const t = await token();
    const r = await h.post(
      '/oauth/revoke',
      form({ token: t }),
      basicAuth(basicClient.clientId, basicClient.clientSecret),
    );
    assert.equal(r.status, 200);
    const v = await h.verifier.verify(t);
    assert.deepEqual([v.ok, !v.ok && v.reason], [false, 'token_revoked']);
    const again = await h.post(
      '/oauth/revoke',
      form({ token: t }),
      basicAuth(basicClient.clientId, basicClient.clientSecret),
    );
    assert.equal(again.status, 200, 'revoking twice is fine');
  });

  it('another client cannot revoke it (200, nothing happens); garbage is 200 too; no auth is 401', async () => {
    const t = await token();
    const other = (await h.client()) as { clientId: string; clientSecret: string };
    assert.equal(
      (await h.post('/oauth/revoke', form({ token: t }), basicAuth(other.clientId, other.clientSecret))).status,
      200,
    );
    assert.ok((await h.verifier.verify(t)).ok, 'still valid');
    assert.equal(
      (await h.post('/oauth/revoke', form({ token: 'not-a-token' }), basicAuth(other.clientId, other.clientSecret)))
        .status,
      200,
    );
    assertOAuthError(await h.post('/oauth/revoke', form({ token: t })), 401, 'invalid_client');
    assertOAuthError(
      await h.post('/oauth/revoke', '', basicAuth(other.clientId, other.clientSecret)),
      400,
      'invalid_request',
    );
  });

  it('introspection: own token active; another client sees {"active":false}; revoked and garbage are inactive', async () => {
    const t = await token();
    const own = await h.post(
      '/oauth/introspect',
      form({ token: t }),
      basicAuth(basicClient.clientId, basicClient.clientSecret),
    );
    assert.equal(own.status, 200);
    assert.equal(own.json.active, true);
    assert.equal(own.json.client_id, basicClient.clientId);
    assert.equal(own.json.tenant, 'acme');
    const other = (await h.client()) as { clientId: string; clientSecret: string };
    assert.deepEqual(
      (await h.post('/oauth/introspect', form({ token: t }), basicAuth(other.clientId, other.clientSecret))).json,
      { active: false },
    );
    assert.deepEqual(
      (
        await h.post(
          '/oauth/introspect',
          form({ token: 'x.y.z' }),
          basicAuth(basicClient.clientId, basicClient.clientSecret),
        )
      ).json,
      { active: false },
    );
    assertOAuthError(await h.post('/oauth/introspect', form({ token: t })), 401, 'invalid_client');
  });

  it('a resource server with oauth:introspect sees tokens of its own tenant only', async () => {
    const t = await token();
    const rs = (await h.client({ scopes: ['oauth:introspect'] })) as { clientId: string; clientSecret: string };
    assert.equal(
      (await h.post('/oauth/introspect', form({ token: t }), basicAuth(rs.clientId, rs.clientSecret))).json.active,
      true,
    );
    const foreign = (await h.client({ tenantId: 'evil', scopes: ['oauth:introspect'] })) as {
      clientId: string;
      clientSecret: string;
    };
    assert.deepEqual(
      (await h.post('/oauth/introspect', form({ token: t }), basicAuth(foreign.clientId, foreign.clientSecret))).json,
      { active: false },
    );
  });
});

describe('metadata, JWKS, methods', () => {
  it('serves RFC 8414 metadata naming this issuer and a JWKS without private parts', async () => {
    const meta = (await (await fetch(`${h.url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(meta['issuer'], TEST_ISSUER);
    assert.equal(meta['token_endpoint'], TOKEN_URL);
    assert.deepEqual(meta['grant_types_supported'], ['client_credentials']);
    const jwks = (await (await fetch(`${h.url}/oauth/jwks`)).json()) as { keys: Record<string, unknown>[] };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]!['d'], undefined);
    assert.equal(jwks.keys[0]!['alg'], 'ES256');
  });

  it('GET /oauth/token is 405 with Allow', async () => {
    const r = await fetch(`${h.url}/oauth/token`);
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'POST');
    assert.equal(((await r.json()) as { error: string }).error, 'invalid_request');
    const big = await h.post('/oauth/token', `grant_type=client_credentials&pad=${'x'.repeat(40 * 1024)}`);
    assert.equal(big.status, 413);
    assert.equal(big.json.error, 'invalid_request');
  });
});

describe('brute-force lockout', () => {
  it('counts a client only together with the address it was tried from, never on its own', () => {
    const id = `pcc_${'A'.repeat(22)}`;
    assert.deepEqual(clientLockoutSubjects(id, '198.51.100.7'), [
      'ip:198.51.100.7',
      `oauth_client_ip:${id}|198.51.100.7`,
    ]);
    assert.deepEqual(clientLockoutSubjects('not a client id', '198.51.100.7'), ['ip:198.51.100.7']);
    const lockout = createLockout({
      threshold: 3,
      windowS: 60,
      baseLockoutS: 30,
      maxLockoutS: 60,
      now: () => 1_000_000,
    });
    for (let i = 0; i < 3; i++) lockout.recordFailure(clientLockoutSubjects(id, '198.51.100.7'));
    assert.equal(lockout.check(clientLockoutSubjects(id, '198.51.100.7')).locked, true);
    assert.equal(
      lockout.check(clientLockoutSubjects(id, '203.0.113.9')).locked,
      false,
      'the same client from elsewhere is not locked',
    );
  });

  it('locks the address a client id was guessed from, even against the right secret, with Retry-After', async () => {
    let t = 1_000_000;
    const lh = await startOAuthHarness({
      lockout: createLockout({ threshold: 3, windowS: 60, baseLockoutS: 30, maxLockoutS: 60, now: () => t }),
    });
    try {
      const c = (await lh.client()) as { clientId: string; clientSecret: string };
      for (let i = 0; i < 3; i++)
        assertOAuthError(await lh.post('/oauth/token', CC, basicAuth(c.clientId, 'pcs_wrong')), 401, 'invalid_client');
      const locked = await lh.post('/oauth/token', CC, basicAuth(c.clientId, c.clientSecret));
      assert.equal(locked.status, 429);
      assert.equal(locked.json.error, 'invalid_client');
      assert.ok(Number(locked.headers.get('retry-after')) >= 1);
      t += 31_000;
      assert.equal((await lh.post('/oauth/token', CC, basicAuth(c.clientId, c.clientSecret))).status, 200);
    } finally {
      await lh.close();
    }
  });
});
