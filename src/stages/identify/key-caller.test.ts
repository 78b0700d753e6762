/**
 * identify, API key path, attacked: brute force until lockout, revoked keys, IP allowlists
 * (IPv4, IPv6 and IPv4-mapped IPv6 tricks), team allowlists, endpoint scope, read-only keys and
 * keys in the query string. A real SQLite store and the real key verifier.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import type { Operation, RequestContext, Surface } from '../../core/context.ts';
import { isGatewayError } from '../../errors/gateway-error.ts';
import type { SecurityEvent } from '../../events/security-events.ts';
import { createApiKey, type NewApiKey } from '../../identity/api-keys.ts';
import { createKeyVerifier } from '../../identity/key-verifier.ts';
import { createLockout } from '../../identity/lockout.ts';
import { createLogger } from '../../observability/logger.ts';
import { openStore } from '../../store/open.ts';
import type { Store } from '../../store/store.ts';
import { createIdentifyStage } from './index.ts';

const SECRET = Buffer.alloc(32, 0x42);
const dir = mkdtempSync(join(tmpdir(), 'portcullis-identify-'));
let store: Store;
const log = createLogger({ level: 'silent' });

before(async () => {
  store = await openStore({ driver: 'sqlite', path: join(dir, 'store.db') });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** A well-formed key (valid checksum) that shares `prefix` with a real key: what an attacker who saw the prefix can make. */
function forgeWithPrefix(prefix: string, fill: string): string {
  const body = (prefix + fill.repeat(40)).slice(0, 36);
  let n = crc32(body);
  let sum = '';
  for (let i = 0; i < 6; i++) {
    sum = ALPHABET[n % 62] + sum;
    n = Math.floor(n / 62);
  }
  return body + sum;
}

interface Call {
  key?: string;
  ip?: string;
  surface?: Surface;
  operation?: Operation;
  query?: string;
}

function harness(opts: { threshold?: number } = {}) {
  let t = Date.parse('2026-01-01T00:00:00Z');
  const events: SecurityEvent[] = [];
  const lockout = createLockout({
    threshold: opts.threshold ?? 3,
    windowS: 600,
    baseLockoutS: 60,
    maxLockoutS: 600,
    now: () => t,
  });
  const stage = createIdentifyStage({
    store,
    verifier: createKeyVerifier({ store, secret: SECRET, cacheTtlMs: 0 }),
    lockout,
    now: () => new Date(t),
    events: {
      emit: (e) => {
        events.push(e);
      },
    },
    teamCacheTtlMs: 0,
  });
  const call = async (c: Call): Promise<{ code: string; retryAfterS?: number; ctx: RequestContext }> => {
    const ctx = {
      id: 'req',
      surface: c.surface ?? 'openai',
      operation: c.operation ?? 'chat',
      log,
      caller: undefined,
      http: {
        method: 'POST',
        path: '/v1/chat/completions',
        query: c.query ?? '',
        headers: c.key === undefined ? {} : { authorization: `Bearer ${c.key}` },
        remoteAddress: c.ip ?? '198.51.100.1',
        clientIp: c.ip ?? '198.51.100.1',
      },
    } as unknown as RequestContext;
    try {
      await stage.onRequest!(ctx);
      return { code: 'ok', ctx };
    } catch (err) {
      if (!isGatewayError(err)) throw err;
      return { code: err.code, ...(err.retryAfterS === undefined ? {} : { retryAfterS: err.retryAfterS }), ctx };
    }
  };
  return {
    call,
    events,
    advance: (s: number) => {
      t += s * 1000;
    },
  };
}

async function newKey(extra: Partial<NewApiKey> = {}): Promise<{ key: string; id: string; prefix: string }> {
  const { key, record } = await createApiKey(store, SECRET, {
    tenantId: 'acme',
    label: 'k',
    allowedModels: ['*'],
    ...extra,
  });
  return { key, id: record.id, prefix: record.prefix };
}

describe('identify: brute-force lockout', () => {
  it('locks an address out after the threshold, even for a valid key, and says when to retry', async () => {
    const h = harness();
    const good = await newKey();
    const ip = '203.0.113.10';
    for (let i = 0; i < 3; i++)
      assert.equal((await h.call({ key: forgeWithPrefix('pcl_', String(i)), ip })).code, 'auth.invalid_key');
    const locked = await h.call({ key: good.key, ip });
    assert.deepEqual([locked.code, locked.retryAfterS], ['auth.locked_out', 60]);
    assert.equal(
      (await h.call({ key: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', ip })).code,
      'auth.locked_out',
      'tokens are not checked either',
    );
    assert.equal((await h.call({ key: good.key, ip: '203.0.113.11' })).code, 'ok', 'other addresses are not affected');
    assert.ok(h.events.some((e) => e.type === 'auth.lockout' && e.sourceIp === ip && e.detail?.subject === `ip:${ip}`));
    h.advance(60);
    assert.equal((await h.call({ key: good.key, ip })).code, 'ok');
  });

  it('counts malformed keys and garbage against the address', async () => {
    const h = harness();
    const ip = '203.0.113.20';
    for (const junk of ['x', 'pcl_short', `sk-${'a'.repeat(40)}`])
      assert.equal((await h.call({ key: junk, ip })).code, 'auth.invalid_key');
    assert.equal((await h.call({ key: 'pcl_whatever', ip })).code, 'auth.locked_out');
  });

  it('treats IPv4-mapped IPv6 and IPv4 spellings of one client as the same subject', async () => {
    const h = harness();
    await h.call({ key: 'bad', ip: '203.0.113.30' });
    await h.call({ key: 'bad', ip: '::ffff:203.0.113.30' });
    await h.call({ key: 'bad', ip: '::ffff:cb00:711e' });
    assert.equal((await h.call({ key: 'bad', ip: '203.0.113.30' })).code, 'auth.locked_out');
  });

  it('does not let well-formed guesses at a known prefix lock the real key out', async () => {
    const h = harness();
    const victim = await newKey();
    for (let i = 0; i < 10; i++)
      await h.call({ key: forgeWithPrefix(victim.prefix, String.fromCharCode(65 + i)), ip: `192.0.2.${i}` });
    assert.equal((await h.call({ key: victim.key, ip: '198.51.100.99' })).code, 'ok');
  });

  it('locks the prefix of a revoked key hammered from many addresses, and reports the revoked key being used', async () => {
    const h = harness();
    const leaked = await newKey();
    await store.revokeApiKey(leaked.id, new Date().toISOString());
    const first = await h.call({ key: leaked.key, ip: '192.0.2.101' });
    assert.equal(first.code, 'auth.invalid_key', 'same answer as an unknown key');
    await h.call({ key: leaked.key, ip: '192.0.2.102' });
    await h.call({ key: leaked.key, ip: '192.0.2.103' });
    assert.equal((await h.call({ key: leaked.key, ip: '192.0.2.104' })).code, 'auth.locked_out');
    const revokedUse = h.events.filter((e) => e.type === 'key.revoked_used');
    assert.equal(revokedUse.length, 3);
    assert.deepEqual(
      [revokedUse[0]?.keyId, revokedUse[0]?.keyPrefix, revokedUse[0]?.tenantId],
      [leaked.id, leaked.prefix, 'acme'],
    );
    const failure = h.events.find((e) => e.type === 'auth.failure');
    assert.equal(failure?.detail?.reason, 'revoked');
    assert.ok(!JSON.stringify(h.events).includes(leaked.key), 'events never hold the key');
  });
});

describe('identify: key IP allowlist', () => {
  it('admits only listed IPv4 and IPv6 ranges, whatever the spelling', async () => {
    const h = harness({ threshold: 1000 });
    const k = await newKey({ ipAllowlist: ['203.0.113.0/24', '2001:db8::/32'] });
    for (const ip of ['203.0.113.5', '::ffff:203.0.113.5', '2001:db8:1::7', '2001:DB8::1'])
      assert.equal((await h.call({ key: k.key, ip })).code, 'ok', ip);
    for (const ip of [
      '203.0.114.5',
      '::203.0.113.5',
      '64:ff9b::203.0.113.5',
      '2001:db9::1',
      '::ffff:203.0.114.5',
      '',
      'unix-socket',
    ]) {
      assert.equal((await h.call({ key: k.key, ip })).code, 'auth.ip_not_allowed', ip);
    }
  });

  it('an IPv4-mapped IPv6 allowlist entry is the IPv4 range', async () => {
    const h = harness({ threshold: 1000 });
    const k = await newKey({ ipAllowlist: ['::ffff:10.0.0.0/104'] });
    assert.equal((await h.call({ key: k.key, ip: '10.1.2.3' })).code, 'ok');
    assert.equal((await h.call({ key: k.key, ip: '11.1.2.3' })).code, 'auth.ip_not_allowed');
  });

  it('refuses invalid allowlist entries when the key is made', async () => {
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.1-10.0.0.9', '::ffff:1.2.3.4/80', '']) {
      await assert.rejects(newKey({ ipAllowlist: [bad] }), TypeError, bad);
    }
  });

  it('applies the team allowlist too, and refuses a key whose team is gone', async () => {
    const h = harness({ threshold: 1000 });
    await store.insertTeam({
      id: 'team_net',
      tenantId: 'acme',
      name: 'net',
      ipAllowlist: ['192.0.2.0/24'],
      createdAt: new Date().toISOString(),
    });
    const k = await newKey({ teamId: 'team_net' });
    assert.equal((await h.call({ key: k.key, ip: '192.0.2.9' })).code, 'ok');
    assert.equal((await h.call({ key: k.key, ip: '198.51.100.9' })).code, 'auth.ip_not_allowed');
    const both = await newKey({ teamId: 'team_net', ipAllowlist: ['192.0.2.128/25'] });
    assert.equal(
      (await h.call({ key: both.key, ip: '192.0.2.9' })).code,
      'auth.ip_not_allowed',
      'key and team lists must both admit',
    );
    assert.equal((await h.call({ key: both.key, ip: '192.0.2.200' })).code, 'ok');
    const orphan = await newKey({ teamId: 'team_gone' });
    assert.equal((await h.call({ key: orphan.key, ip: '192.0.2.9' })).code, 'auth.invalid_key');
  });
});

describe('identify: endpoint scope and read-only keys', () => {
  it('refuses endpoints outside the scope', async () => {
    const h = harness();
    const k = await newKey({ allowedEndpoints: ['embeddings', 'models'] });
    assert.equal((await h.call({ key: k.key, operation: 'embeddings' })).code, 'ok');
    assert.equal((await h.call({ key: k.key, operation: 'models' })).code, 'ok');
    assert.equal((await h.call({ key: k.key, operation: 'chat' })).code, 'auth.endpoint_not_allowed');
    assert.equal(
      (await h.call({ key: k.key, surface: 'anthropic', operation: 'chat' })).code,
      'auth.endpoint_not_allowed',
    );
    const m = await newKey({ allowedEndpoints: ['messages'] });
    assert.equal((await h.call({ key: m.key, surface: 'anthropic', operation: 'chat' })).code, 'ok');
    assert.equal(
      (await h.call({ key: m.key, surface: 'openai', operation: 'chat' })).code,
      'auth.endpoint_not_allowed',
    );
  });

  it('a read-only key may list models and nothing else', async () => {
    const h = harness();
    const k = await newKey({ readOnly: true });
    assert.equal((await h.call({ key: k.key, operation: 'models' })).code, 'ok');
    for (const operation of ['chat', 'embeddings'] as const)
      assert.equal((await h.call({ key: k.key, operation })).code, 'auth.endpoint_not_allowed');
  });

  it('refuses unknown endpoint names and an empty scope when the key is made', async () => {
    await assert.rejects(newKey({ allowedEndpoints: ['completions'] }), TypeError);
    await assert.rejects(newKey({ allowedEndpoints: [] }), TypeError);
  });
});

describe('identify: credentials in the query string', () => {
  it('refuses a key in the URL even next to a valid header, and reports it', async () => {
    const h = harness();
    const k = await newKey();
    for (const query of [
      `api_key=${k.key}`,
      `key=${k.key}`,
      `foo=1&x=${k.key}`,
      'access_token=abc',
      `API_KEY=${k.key}`,
    ]) {
      const r = await h.call({ key: k.key, query });
      assert.equal(r.code, 'auth.key_in_query', query);
      assert.equal(r.ctx.caller, undefined);
    }
    assert.equal((await h.call({ query: `api_key=${k.key}` })).code, 'auth.key_in_query');
    assert.ok(h.events.some((e) => e.type === 'auth.key_in_query'));
    assert.equal((await h.call({ key: k.key, query: 'stream=true' })).code, 'ok');
  });
});

describe('identify: last use', () => {
  it('records when a key was last used', async () => {
    const h = harness();
    const k = await newKey();
    await h.call({ key: k.key });
    for (let i = 0; i < 20 && (await store.getApiKey(k.id))?.lastUsedAt === null; i++)
      await new Promise((r) => setImmediate(r));
    assert.equal((await store.getApiKey(k.id))?.lastUsedAt, '2026-01-01T00:00:00.000Z');
  });
});
