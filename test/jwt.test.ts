/**
 * JWT access tokens end to end: a local IdP (discovery document + JWKS) started by the test,
 * the real gateway process configured with it as an issuer, and the official `openai` client
 * using a signed access token as its API key.
 */

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import OpenAI from 'openai';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

interface Key {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function makeKey(alg: 'RS256' | 'ES256', kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

let idp: Server;
let issuer: string;
const served: string[] = [];
let published: Key[] = [];
let gw: RunningGateway;
let idpKey: Key, attackerKey: Key;

function token(claims: JWTPayload = {}, key: Key = idpKey, header: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: issuer,
    aud: 'portcullis',
    sub: 'svc-reporting',
    tenant: 'acme',
    team: 'data',
    models: ['gpt', 'claude'],
    iat: now,
    exp: now + 300,
    ...claims,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header })
    .sign(key.privateKey);
}

const client = (apiKey: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
const chat = (apiKey: string, model = 'gpt') =>
  client(apiKey).chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello via token' }] });

before(async () => {
  [idpKey, attackerKey] = await Promise.all([makeKey('ES256', 'idp-2025'), makeKey('ES256', 'idp-2025')]);
  published = [idpKey];
  idp = createServer((req, res) => {
    served.push(req.url ?? '');
    if (req.url === '/.well-known/openid-configuration') {
      return res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ issuer, jwks_uri: `${issuer}jwks.json` }));
    }
    if (req.url === '/jwks.json') {
      return res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/`;
  gw = await startGateway({
    authYaml: `auth:
  jwt:
    issuers:
      - issuer: ${issuer}
        discovery_url: ${issuer}.well-known/openid-configuration
        allow_private_network: true
        audience: portcullis
        algorithms: [ES256, RS256]
        clock_skew_s: 30
        jwks_refresh_min_interval_s: 1
`,
  });
});

after(async () => {
  await gw?.stop();
  idp?.closeAllConnections();
  idp?.close();
});

describe('JWT access tokens through the real gateway', () => {
  test('the openai SDK gets a completion with a signed access token as its key', async () => {
    const r = await chat(await token());
    assert.equal(r.choices[0]!.message.content, 'Hello via token');
    const again = await chat(await token(), 'claude');
    assert.equal(again.choices[0]!.message.content, 'Hello via token');
    assert.equal(served.filter((u) => u === '/jwks.json').length, 1, 'keys are fetched once and cached');
    assert.equal(served.filter((u) => u === '/.well-known/openid-configuration').length, 1);
  });

  test('streams with a token too', async () => {
    const stream = await client(await token()).chat.completions.create({
      model: 'gpt',
      messages: [{ role: 'user', content: 'one two three' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'one two three');
  });

  test("a model outside the token's models claim is 404, and /v1/models lists only allowed models", async () => {
    const narrow = await token({ models: ['claude'] });
    await assert.rejects(chat(narrow, 'gpt'), (err: unknown) => err instanceof OpenAI.NotFoundError);
    assert.equal((await chat(narrow, 'claude')).choices[0]!.message.content, 'Hello via token');
    const list = await client(narrow).models.list();
    assert.deepEqual(
      list.data.map((m) => m.id),
      ['claude'],
    );
  });

  test('a token without a models claim gets no models (least privilege)', async () => {
    const t = await new SignJWT({ aud: 'portcullis', sub: 'u', tenant: 'acme' })
      .setProtectedHeader({ alg: 'ES256', kid: idpKey.kid })
      .setIssuer(issuer)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(idpKey.privateKey);
    await assert.rejects(chat(t, 'gpt'), (err: unknown) => err instanceof OpenAI.NotFoundError);
  });

  test('a forged token gets 401 invalid_token with the RFC 6750 challenge, and the reason only in the log', async () => {
    const forged = await token({}, attackerKey); // same kid as the IdP's key, wrong private key
    await assert.rejects(chat(forged), (err: unknown) => err instanceof OpenAI.AuthenticationError);
    const res = await rawRequest(`${gw.url}/v1/chat/completions`, {
      headers: { authorization: `Bearer ${forged}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="portcullis", error="invalid_token"');
    assert.equal(res.headers.get('x-portcullis-error-code'), 'auth.invalid_token');
    assert.equal(res.json.error.code, 'auth.invalid_token');
    assert.equal(res.json.error.message, 'Invalid access token.');
    await waitFor(() => gw.output().includes('"reason":"bad_signature"'));
    const line = gw
      .output()
      .split('\n')
      .find((l) => l.includes('"reason":"bad_signature"'))!;
    assert.match(line, /"kid":"idp-2025"/);
    assert.ok(line.includes(`"issuer":"${issuer}"`));
    assert.ok(!(await gw.settledOutput()).includes(forged.split('.')[2]!), 'the token never reaches the log');
  });

  test('alg none, expired, wrong audience and a jku header are all the same 401', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const bad = [
      `${b64({ alg: 'none' })}.${b64({ iss: issuer, aud: 'portcullis', sub: 'x', tenant: 'acme', exp: now + 60 })}.`,
      await token({ exp: now - 3600 }),
      await token({ aud: 'another-api' }),
      await token({}, idpKey, { jku: 'http://127.0.0.1:1/jwks.json' }),
    ];
    for (const t of bad) {
      const res = await rawRequest(`${gw.url}/v1/models`, { method: 'GET', headers: { authorization: `Bearer ${t}` } });
      assert.equal(res.status, 401);
      assert.equal(res.json.error.code, 'auth.invalid_token');
    }
  });

  test('on /v1/messages a refused token is an Anthropic-shaped 401 without the Bearer challenge', async () => {
    const res = await rawRequest(`${gw.url}/v1/messages`, {
      headers: {
        authorization: `Bearer ${await token({}, attackerKey)}`,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({ model: 'claude', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 401);
    assert.equal(res.json.type, 'error');
    assert.equal(res.json.error.type, 'authentication_error');
    assert.equal(res.headers.get('www-authenticate'), null);
  });

  test('API keys keep working next to tokens', async () => {
    const r = await chat(await gw.createKey());
    assert.equal(r.choices[0]!.message.content, 'Hello via token');
  });

  test('a key rotated at the IdP is picked up on its first token', async () => {
    const next = await makeKey('RS256', 'idp-2026');
    published = [idpKey, next];
    await new Promise((r) => setTimeout(r, 1100)); // the configured minimum refresh interval is 1 s
    const before = served.filter((u) => u === '/jwks.json').length;
    assert.equal((await chat(await token({}, next))).choices[0]!.message.content, 'Hello via token');
    assert.equal(served.filter((u) => u === '/jwks.json').length, before + 1);
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(cond(), 'condition not reached');
}
