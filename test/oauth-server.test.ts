/**
 * The built-in OAuth 2.0 authorization server end to end: the real gateway process with
 * `oauth_server` enabled, a client registered through the CLI, a token from /oauth/token, a
 * chat completion with the official `openai` SDK using that token as its API key, then
 * revocation (of the token, of the client) refusing it with RFC 6750 `invalid_token`, and a
 * signing-key rotation during which old and new tokens both work.
 */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import OpenAI from 'openai';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

let gw: RunningGateway;
let issuer: string;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

interface Client {
  client_id: string;
  client_secret: string;
}

async function createClient(args: string[] = []): Promise<Client> {
  const r = await gw.cli([
    'oauth',
    'clients',
    'create',
    '--config',
    gw.configPath,
    '--name',
    'reporting',
    '--tenant',
    'acme',
    '--models',
    'gpt',
    '--scopes',
    'chat,embeddings',
    '--json',
    ...args,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Client;
}

function basic(c: Client): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64')}`;
}

async function tokenRequest(c: Client, form: Record<string, string> = { grant_type: 'client_credentials' }) {
  return rawRequest(`${gw.url}/oauth/token`, {
    headers: { authorization: basic(c), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

async function accessToken(c: Client): Promise<string> {
  const r = await tokenRequest(c);
  assert.equal(r.status, 200, r.text);
  return r.json.access_token as string;
}

const chat = (apiKey: string, model = 'gpt') =>
  new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 }).chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Hello via oauth' }],
  });

async function chatStatus(token: string): Promise<{ status: number; challenge: string | null }> {
  const r = await rawRequest(`${gw.url}/v1/chat/completions`, {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: r.status, challenge: r.headers.get('www-authenticate') };
}

before(async () => {
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  gw = await startGateway({
    serverYaml: `server:\n  host: 127.0.0.1\n  port: ${port}\n  shutdown_grace_ms: 3000\n`,
    authYaml: `oauth_server:\n  issuer: ${issuer}\n  token_ttl_s: 300\n  key_refresh_interval_s: 1\n`,
  });
});

after(async () => {
  await gw?.stop();
});

describe('built-in OAuth authorization server through the real gateway', { timeout: 120_000 }, () => {
  test('publishes RFC 8414 metadata and a JWKS of public keys', async () => {
    const meta = await rawRequest(`${gw.url}/.well-known/oauth-authorization-server`, { method: 'GET' });
    assert.equal(meta.status, 200);
    assert.equal(meta.json.issuer, issuer);
    assert.equal(meta.json.token_endpoint, `${issuer}/oauth/token`);
    assert.deepEqual(meta.json.grant_types_supported, ['client_credentials']);
    const jwks = await rawRequest(`${gw.url}/oauth/jwks`, { method: 'GET' });
    assert.equal(jwks.status, 200);
    assert.ok(jwks.json.keys.length >= 1);
    for (const k of jwks.json.keys) assert.equal(k.d, undefined, 'no private key material is published');
  });

  test('CLI client → token → chat completion with the openai SDK; revoked token → 401 invalid_token', async () => {
    const client = await createClient();
    assert.match(client.client_id, /^pcc_/);
    assert.match(client.client_secret, /^pcs_/);
    const r = await tokenRequest(client, { grant_type: 'client_credentials', scope: 'chat' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.json.token_type, 'Bearer');
    assert.equal(r.json.scope, 'chat');
    assert.equal(decodeProtectedHeader(r.json.access_token).typ, 'at+jwt');
    const token = r.json.access_token as string;

    const done = await chat(token);
    assert.equal(done.choices[0]!.message.content, 'Hello via oauth');
    await assert.rejects(
      chat(token, 'claude'),
      (err: { status?: number }) => err.status === 404,
      "models outside the client's list are refused",
    );
    // The token asked for `chat` only: the client's other endpoint scope is not in it.
    const embed = await rawRequest(`${gw.url}/v1/embeddings`, {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', input: 'hi' }),
    });
    assert.equal(embed.status, 403, embed.text);
    assert.equal(embed.json.error.code, 'auth.endpoint_not_allowed');
    const listing = await rawRequest(`${gw.url}/v1/models`, {
      method: 'GET',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(listing.status, 403);

    const introspected = await rawRequest(`${gw.url}/oauth/introspect`, {
      headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${token}`,
    });
    assert.equal(introspected.json.active, true);
    assert.equal(introspected.json.client_id, client.client_id);

    const revoked = await rawRequest(`${gw.url}/oauth/revoke`, {
      headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${token}`,
    });
    assert.equal(revoked.status, 200);
    const refused = await chatStatus(token);
    assert.equal(refused.status, 401);
    assert.equal(refused.challenge, 'Bearer realm="portcullis", error="invalid_token"');
    await assert.rejects(chat(token), (err: { status?: number }) => err.status === 401);
  });

  test('revoking the client by CLI refuses its outstanding tokens and its token requests', async () => {
    const client = await createClient();
    const token = await accessToken(client);
    assert.equal((await chatStatus(token)).status, 200);
    const r = await gw.cli(['oauth', 'clients', 'revoke', '--config', gw.configPath, client.client_id]);
    assert.equal(r.code, 0, r.stderr);
    const refused = await chatStatus(token);
    assert.equal(refused.status, 401);
    assert.equal(refused.challenge, 'Bearer realm="portcullis", error="invalid_token"');
    const again = await tokenRequest(client);
    assert.equal(again.status, 401);
    assert.equal(again.json.error, 'invalid_client');
    assert.match(again.headers.get('www-authenticate') ?? '', /^Basic /);
    const listed = await gw.cli(['oauth', 'clients', 'list', '--config', gw.configPath, '--json']);
    assert.ok(!listed.stdout.includes('pcs_'), 'no secret is ever listed');
  });

  test('after a signing-key rotation old tokens keep working and new tokens use the new key', async () => {
    const client = await createClient();
    const oldToken = await accessToken(client);
    const oldKid = decodeProtectedHeader(oldToken).kid;
    const r = await gw.cli(['oauth', 'rotate-signing-key', '--config', gw.configPath, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const newKid = (JSON.parse(r.stdout) as { kid: string }).kid;
    assert.notEqual(newKid, oldKid);
    // The gateway re-reads its keys every key_refresh_interval_s (1 s here): wait for the switch, bounded.
    let token = await accessToken(client);
    for (let i = 0; i < 100 && decodeProtectedHeader(token).kid !== newKid; i++) {
      await new Promise((res) => setTimeout(res, 100));
      token = await accessToken(client);
    }
    assert.equal(decodeProtectedHeader(token).kid, newKid);
    assert.equal((await chatStatus(token)).status, 200);
    assert.equal(
      (await chatStatus(oldToken)).status,
      200,
      'a token signed by the previous key still verifies during the overlap',
    );
    const jwks = await rawRequest(`${gw.url}/oauth/jwks`, { method: 'GET' });
    const kids = (jwks.json.keys as { kid: string }[]).map((k) => k.kid);
    assert.ok(kids.includes(oldKid!) && kids.includes(newKid), `both keys published: ${kids.join(',')}`);
  });

  test('no client secret or signing private key reaches the gateway log or the database files', async () => {
    const client = await createClient();
    await accessToken(client);
    await tokenRequest({ ...client, client_secret: `${client.client_secret.slice(0, -2)}xx` });
    assert.ok(!(await gw.settledOutput()).includes(client.client_secret));
    const stateDir = join(gw.dir, 'state');
    const files = readdirSync(stateDir).filter((f) => f.startsWith('portcullis.db'));
    assert.ok(files.length > 0);
    for (const f of files) {
      const bytes = readFileSync(join(stateDir, f));
      assert.equal(bytes.indexOf(client.client_secret), -1, `${f} holds the client secret`);
      assert.equal(bytes.indexOf('"d":'), -1, `${f} holds a private JWK`);
    }
  });
});
