/**
 * Virtual key hardening against the real gateway process, attacked from outside: X-Forwarded-For
 * spoofing, IP allowlists (with IPv4-mapped IPv6), brute force until lockout, rotation with a
 * grace period, endpoint scope, read-only keys and keys in the query string.
 *
 * The gateway listens on `::` so the test can reach it from two peers: 127.0.0.1 (not trusted)
 * and ::1 (the trusted "reverse proxy", `server.trusted_proxies: [::1]`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

let gw: RunningGateway;
let untrusted: string;
let proxy: string;

before(
  async () => {
    gw = await startGateway({
      serverYaml: 'server:\n  host: "::"\n  port: 0\n  shutdown_grace_ms: 3000\n  trusted_proxies: ["::1/128"]\n',
      authYaml: 'auth:\n  lockout: { threshold: 3, window: 10m, base_lockout: 5m, max_lockout: 1h }\n',
    });
    const port = new URL(gw.url).port;
    untrusted = `http://127.0.0.1:${port}`;
    proxy = `http://[::1]:${port}`;
  },
  { timeout: 60_000 },
);
after(async () => {
  await gw?.stop();
});

async function key(...flags: string[]): Promise<{ key: string; id: string; prefix: string }> {
  const r = await gw.cli(['keys', 'create', '--config', gw.configPath, '--label', 'hardening', '--json', ...flags]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { key: string; id: string; prefix: string };
}

const chatBody = JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] });

function chat(base: string, apiKey: string | undefined, headers: Record<string, string> = {}, query = '') {
  return rawRequest(`${base}/v1/chat/completions${query}`, {
    headers: {
      'content-type': 'application/json',
      ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
      ...headers,
    },
    body: chatBody,
  });
}

describe('trusted proxies and X-Forwarded-For', () => {
  test('a spoofed X-Forwarded-For from an untrusted peer is ignored', async () => {
    const k = await key('--ip', '203.0.113.0/24');
    const spoofed = await chat(untrusted, k.key, { 'x-forwarded-for': '203.0.113.5' });
    assert.equal(spoofed.status, 403);
    assert.equal(spoofed.json.error.code, 'auth.ip_not_allowed');
  });

  test('behind a trusted proxy the client is the rightmost untrusted hop', async () => {
    const k = await key('--ip', '203.0.113.0/24');
    assert.equal((await chat(proxy, k.key, { 'x-forwarded-for': '203.0.113.5' })).status, 200);
    // The client wrote 203.0.113.5 itself; the proxy appended the address it really saw.
    const forged = await chat(proxy, k.key, { 'x-forwarded-for': '203.0.113.5, 198.51.100.77' });
    assert.equal(forged.status, 403);
    assert.equal(
      (await chat(proxy, k.key, { 'x-forwarded-for': '203.0.113.5, ::1' })).status,
      200,
      'trusted hops are skipped',
    );
  });
});

describe('IP allowlist: IPv6 and IPv4-mapped bypass attempts', () => {
  test('IPv4 rules hold for IPv4-mapped IPv6 spellings, and IPv6 rules for IPv6 clients only', async () => {
    const k = await key('--ip', '203.0.113.0/24,2001:db8::/32');
    const via = (xff: string) => chat(proxy, k.key, { 'x-forwarded-for': xff });
    assert.equal((await via('::ffff:203.0.113.9')).status, 200);
    assert.equal((await via('2001:db8:42::1')).status, 200);
    for (const bypass of [
      '::ffff:198.51.100.1',
      '::203.0.113.9',
      '64:ff9b::203.0.113.9',
      '2001:db9::1',
      '203.0.113.9:443',
    ]) {
      const r = await via(bypass);
      assert.equal(r.status, 403, `${bypass} must not pass`);
    }
  });

  test('a bad CIDR is refused when the key is made', async () => {
    for (const bad of ['10.0.0.0/33', 'not-an-ip', '::ffff:1.2.3.4/80']) {
      const r = await gw.cli(['keys', 'create', '--config', gw.configPath, '--label', 'x', '--ip', bad]);
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, /--ip/);
    }
  });
});

describe('brute-force lockout', () => {
  test('guessing keys locks the address out with 429 and Retry-After, even for a valid key', async () => {
    const good = await key();
    const attacker = { 'x-forwarded-for': '192.0.2.66' };
    for (let i = 0; i < 3; i++) {
      const r = await chat(proxy, `pcl_guess${i}`, attacker);
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, 'auth.invalid_key');
    }
    const locked = await chat(proxy, good.key, attacker);
    assert.equal(locked.status, 429);
    assert.equal(locked.json.error.code, 'auth.locked_out');
    const retryAfter = Number(locked.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 300, `Retry-After ${retryAfter}`);
    assert.equal(
      (await chat(proxy, good.key, { 'x-forwarded-for': '192.0.2.67' })).status,
      200,
      'other clients are unaffected',
    );
  });

  test('rotating a spoofed X-Forwarded-For does not dodge the lockout', async () => {
    const good = await key();
    for (let i = 0; i < 5; i++) await chat(untrusted, 'pcl_nope', { 'x-forwarded-for': `198.51.100.${i}` });
    const r = await chat(untrusted, good.key, { 'x-forwarded-for': '198.51.100.200' });
    assert.equal(r.status, 429);
    assert.equal(r.json.error.code, 'auth.locked_out');
  });

  test('the security log names the lockout and never the key', async () => {
    const out = gw.output();
    assert.match(out, /security event auth\.lockout/);
    assert.match(out, /"reason":"malformed"/);
    assert.doesNotMatch(out, /pcl_[0-9A-Za-z]{38}/, 'no full key in the logs');
  });
});

describe('rotation', () => {
  test('the old key keeps working during the grace period, the new one at once', async () => {
    const old = await key('--endpoints', 'chat,models', '--ip', '::1,127.0.0.1');
    const r = await gw.cli(['keys', 'rotate', old.id, '--grace', '24h', '--config', gw.configPath, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rotated = JSON.parse(r.stdout) as {
      key: string;
      id: string;
      allowedEndpoints: string[];
      ipAllowlist: string[];
      rotatedFrom: string;
      replaces: { expiresAt: string };
    };
    assert.deepEqual(
      [rotated.allowedEndpoints, rotated.ipAllowlist, rotated.rotatedFrom],
      [['chat', 'models'], ['::1/128', '127.0.0.1/32'], old.id],
    );
    assert.ok(Date.parse(rotated.replaces.expiresAt) > Date.now() + 23 * 3600_000);
    assert.equal((await chat(proxy, old.key)).status, 200);
    assert.equal((await chat(proxy, rotated.key)).status, 200);
  });

  test('after the grace the old key is refused as expired, with the same 401 as any bad key', async () => {
    const old = await key();
    const r = await gw.cli(['keys', 'rotate', old.id, '--grace', '0', '--config', gw.configPath, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const fresh = (JSON.parse(r.stdout) as { key: string }).key;
    const refused = await chat(proxy, old.key, { 'x-forwarded-for': '192.0.2.200' });
    assert.equal(refused.status, 401);
    assert.equal(refused.json.error.code, 'auth.invalid_key');
    assert.equal((await chat(proxy, fresh)).status, 200);
    assert.match(gw.output(), /"reason":"expired"/);
    const again = await gw.cli(['keys', 'rotate', old.id, '--config', gw.configPath]);
    assert.equal(again.code, 1, 'an expired key cannot be rotated');
  });
});

describe('endpoint scope and read-only keys', () => {
  test('a key scoped to embeddings cannot chat', async () => {
    const k = await key('--endpoints', 'embeddings');
    const r = await chat(proxy, k.key);
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'auth.endpoint_not_allowed');
    const emb = await rawRequest(`${proxy}/v1/embeddings`, {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${k.key}` },
      body: JSON.stringify({ model: 'embed', input: 'x' }),
    });
    assert.equal(emb.status, 200);
  });

  test('a key scoped to Anthropic messages cannot use OpenAI chat, and the reverse', async () => {
    const k = await key('--endpoints', 'messages');
    const msg = await rawRequest(`${proxy}/v1/messages`, {
      headers: { 'content-type': 'application/json', 'x-api-key': k.key, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(msg.status, 200, msg.text);
    assert.equal((await chat(proxy, k.key)).status, 403);
  });

  test('a read-only key lists models and nothing else', async () => {
    const k = await key('--read-only');
    const models = await rawRequest(`${proxy}/v1/models`, {
      method: 'GET',
      headers: { authorization: `Bearer ${k.key}` },
    });
    assert.equal(models.status, 200);
    assert.equal((await chat(proxy, k.key)).status, 403);
  });
});

describe('keys in the query string', () => {
  test('are refused, with or without a valid header', async () => {
    const k = await key();
    for (const [query, header] of [
      [`?api_key=${k.key}`, undefined],
      [`?key=${k.key}`, k.key],
      [`?x=${k.key}`, k.key],
    ] as const) {
      const r = await chat(proxy, header, {}, query);
      assert.equal(r.status, 400, query);
      assert.equal(r.json.error.code, 'auth.key_in_query');
    }
  });
});

describe('keys list', () => {
  test('shows prefix, label, scopes, expiry, last use and revocation, never a key', async () => {
    const k = await key('--endpoints', 'chat', '--ip', '2001:db8::/32', '--expires', '30d');
    await gw.cli(['keys', 'revoke', k.id, '--config', gw.configPath]);
    const r = await gw.cli(['keys', 'list', '--config', gw.configPath]);
    assert.equal(r.code, 0, r.stderr);
    const block = r.stdout.split(/\n(?=key_)/).find((b) => b.startsWith(k.id));
    assert.ok(block, r.stdout);
    assert.match(block, new RegExp(`${k.prefix}…`));
    assert.match(block, /"hardening"/);
    assert.match(block, /revoked 20/);
    assert.match(block, /endpoints: chat/);
    assert.match(block, /ip: 2001:db8::\/32/);
    assert.match(block, /expires=20\d\d-/);
    assert.match(block, /last-used=never/);
    assert.doesNotMatch(r.stdout, /pcl_[0-9A-Za-z]{38}/);
    assert.match(r.stdout, /last-used=20\d\d-/, 'keys used above show when');
  });
});
