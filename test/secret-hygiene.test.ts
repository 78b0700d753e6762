/**
 * Secret hygiene, attacked end to end: distinctive secrets are planted (a virtual key, a
 * provider API key, a JWT, key_hash_secret, the master key, an admin password and TOTP seed),
 * the real gateway is driven through success paths, error paths and upstream failures with
 * payload logging on, and then every place a secret could leak is searched for each of them,
 * raw, base64, base64url and hex: the gateway's stdout/stderr, every file under its folder
 * (SQLite store, audit db, WAL files, generated keys), every response body and header, and a
 * pg_dump of a PostgreSQL-backed run (when pg_dump is on PATH).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { base32Decode, totpCode, totpStepAt } from '../src/identity/admin/totp.ts';
import { createTestDatabase } from '../src/store/postgres/test-database.ts';
import { CLI, MOCK_ENV, type RunningGateway, startGateway } from './helpers/gateway.ts';

const hex = (n: number) => randomBytes(n).toString('hex');
const PROVIDER_KEY = `sk-plantedprov${hex(12)}`;
const KEY_HASH_SECRET = `khs-planted-${hex(20)}`;
const MASTER_KEY_BYTES = randomBytes(32);
const MASTER_KEY = MASTER_KEY_BYTES.toString('base64');
const PLANTED_JWT = `eyJhbGciOiJSUzI1NiIsImtpZCI6InBsYW50ZWQifQ.eyJzdWIiOiJwbGFudGVkLSR7${hex(8)}In0.${hex(24)}`;
const ADMIN_PASSWORD = `Planted-Admin-Pass-${hex(8)}`;

let cliEnv: Record<string, string> = {};
const ENV = { PCL_KHS: KEY_HASH_SECRET, PCL_MK: MASTER_KEY, MOCK_OPENAI_KEY: PROVIDER_KEY };
const SECURITY = '  key_hash_secret: "${PCL_KHS}"\n  master_key: "${PCL_MK}"\n';
const EXTRA = 'payload_log:\n  enabled: true\n  retention_days: 1\nadmin:\n  enabled: true\n';

/** Every encoding of a secret worth searching for. */
function forms(name: string, secret: string | Buffer): Array<[string, Buffer]> {
  const raw = typeof secret === 'string' ? Buffer.from(secret) : secret;
  const out: Array<[string, Buffer]> = [
    [`${name} (raw)`, raw],
    [`${name} (hex)`, Buffer.from(raw.toString('hex'))],
    [`${name} (base64)`, Buffer.from(raw.toString('base64').replace(/=+$/, ''))],
    [`${name} (base64url)`, Buffer.from(raw.toString('base64url'))],
  ];
  return out.filter(([, b]) => b.length >= 12);
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

function assertNoLeak(where: string, haystack: Buffer, needles: Array<[string, Buffer]>): void {
  for (const [name, needle] of needles) assert.ok(!haystack.includes(needle), `${name} leaked into ${where}`);
}

async function runCli(
  gw: RunningGateway,
  args: string[],
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args, '--config', gw.configPath], {
    cwd: gw.dir,
    env: { ...process.env, ...MOCK_ENV, ...ENV, ...cliEnv },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdin.end(input);
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Drives one gateway through success, refusal and failure paths; returns every response (status line, headers, body). */
async function drive(gw: RunningGateway, key: string, revoked: string): Promise<Buffer> {
  const seen: string[] = [];
  const call = async (path: string, init: { headers?: Record<string, string>; body?: string; method?: string }) => {
    const res = await fetch(`${gw.url}${path}`, {
      method: init.method ?? 'POST',
      headers: init.headers,
      body: init.body,
    });
    const text = await res.text();
    seen.push(`${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${text}`);
    return res.status;
  };
  const json = (k: string) => ({ authorization: `Bearer ${k}`, 'content-type': 'application/json' });
  const chat = (over: Record<string, unknown> = {}) =>
    JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hello there' }], ...over });

  // Success paths: plain, streamed, embeddings, the Anthropic surface, the model list.
  assert.equal(await call('/v1/chat/completions', { headers: json(key), body: chat() }), 200);
  assert.equal(await call('/v1/chat/completions', { headers: json(key), body: chat({ stream: true }) }), 200);
  assert.equal(
    await call('/v1/embeddings', { headers: json(key), body: JSON.stringify({ model: 'embed', input: 'hi' }) }),
    200,
  );
  assert.equal(
    await call('/v1/messages', {
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
    }),
    200,
  );
  assert.equal(await call('/v1/models', { method: 'GET', headers: { authorization: `Bearer ${key}` } }), 200);

  // Refusals: a mangled key, a JWT nobody issued, a revoked key, malformed bodies carrying secrets.
  const mangled = `${key.slice(0, -3)}${key.slice(-3) === 'AAA' ? 'BBB' : 'AAA'}`;
  assert.equal(await call('/v1/chat/completions', { headers: json(mangled), body: chat() }), 401);
  assert.equal(await call('/v1/chat/completions', { headers: json(PLANTED_JWT), body: chat() }), 401);
  assert.equal(await call('/v1/chat/completions', { headers: json(revoked), body: chat() }), 401);
  assert.equal(
    await call('/v1/chat/completions', { headers: json(key), body: `{"model": "gpt", ${PROVIDER_KEY} ${MASTER_KEY}` }),
    400,
  );
  assert.equal(
    await call('/v1/chat/completions', {
      headers: json(key),
      body: JSON.stringify({
        model: 'gpt',
        messages: [{ role: 'user', content: 'x' }],
        temperature: PROVIDER_KEY,
        user: { id: MASTER_KEY },
      }),
    }),
    400,
  );
  await call('/v1/chat/completions', { headers: { ...json(key), 'x-api-key': PROVIDER_KEY }, body: chat() });
  // A client that pastes a credential where the model name goes: refused, and the name is not kept.
  assert.equal(await call('/v1/chat/completions', { headers: json(key), body: chat({ model: PROVIDER_KEY }) }), 404);

  // Upstream failures: errors, a rejected credential, a dropped connection, a broken stream.
  for (const fault of [{ status: 500 }, { status: 401 }, { status: 429, retryAfterS: 1 }, { dropConnection: true }]) {
    await gw.mockControl('/__mock/faults', 'POST', { provider: 'openai', times: 1, ...fault });
    await call('/v1/chat/completions', { headers: json(key), body: chat() });
  }
  await gw.mockControl('/__mock/faults', 'POST', { provider: 'openai', times: 1, breakStreamAfterEvents: 2 });
  await call('/v1/chat/completions', { headers: json(key), body: chat({ stream: true }) });
  await gw.mockControl('/__mock/faults', 'DELETE');
  return Buffer.from(seen.join('\n\n'));
}

async function stopProcess(gw: RunningGateway): Promise<void> {
  if (gw.proc.exitCode === null && gw.proc.signalCode === null) {
    gw.proc.kill('SIGTERM');
    await once(gw.proc, 'exit');
  }
}

async function keys(gw: RunningGateway): Promise<{ key: string; revoked: string }> {
  const create = async (label: string) => {
    const r = await runCli(gw, ['keys', 'create', '--label', label, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { key: string; id: string };
  };
  const live = await create('live');
  const dead = await create('dead');
  assert.equal((await runCli(gw, ['keys', 'revoke', dead.id])).code, 0);
  return { key: live.key, revoked: dead.key };
}

const BASE_NEEDLES = (): Array<[string, Buffer]> => [
  ...forms('provider API key', PROVIDER_KEY),
  ...forms('key_hash_secret', KEY_HASH_SECRET),
  ...forms('master key', MASTER_KEY),
  ...forms('master key bytes', MASTER_KEY_BYTES),
  ...forms('planted JWT', PLANTED_JWT),
  ...forms('admin password', ADMIN_PASSWORD),
];

test('secret hygiene: SQLite-backed gateway', { timeout: 240_000 }, async () => {
  const gw = await startGateway({
    stateYaml: `store:\n  path: ./state/portcullis.db\nsecurity:\n  data_dir: ./state\n${SECURITY}${EXTRA}`,
    mockOptions: { keys: { openai: PROVIDER_KEY } },
    env: ENV,
  });
  try {
    const { key, revoked } = await keys(gw);
    const admin = await runCli(
      gw,
      ['admin', 'create', '--tenant', 'default', '--email', 'ops@example.com', '--role', 'owner', '--json'],
      `${ADMIN_PASSWORD}\n`,
    );
    assert.equal(admin.code, 0, admin.stderr);
    const totpSecret = (JSON.parse(admin.stdout) as { totp_secret: string }).totp_secret;
    const responses = await drive(gw, key, revoked);
    // The admin API: a login that succeeds and one that fails.
    const login = async (body: unknown) => {
      const res = await fetch(`${gw.url}/admin/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return `${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${await res.text()}`;
    };
    const ok = await login({
      email: 'ops@example.com',
      password: ADMIN_PASSWORD,
      totp_code: totpCode(base32Decode(totpSecret), totpStepAt(Date.now())),
    });
    assert.match(ok, /^201/);
    const bad = await login({ email: 'ops@example.com', password: `${ADMIN_PASSWORD}x`, totp_code: '000000' });
    assert.match(bad, /^4/);

    await stopProcess(gw);
    const store = new DatabaseSync(join(gw.dir, 'state', 'portcullis.db'), { readOnly: true });
    const logged = Number((store.prepare('SELECT count(*) AS n FROM payload_log').get() as { n: number }).n);
    store.close();
    assert.ok(
      logged >= 4,
      `the payload log holds the model calls (${logged}), so the file search covers encrypted bodies`,
    );
    const needles = [
      ...BASE_NEEDLES(),
      ...forms('virtual key', key),
      ...forms('revoked virtual key', revoked),
      ...forms('TOTP seed', totpSecret),
      ...forms('TOTP seed bytes', base32Decode(totpSecret)),
    ];
    assertNoLeak('responses', Buffer.concat([responses, Buffer.from(ok), Buffer.from(bad)]), needles);
    assertNoLeak('gateway stdout/stderr', Buffer.from(await gw.settledOutput()), needles);
    const files = filesUnder(gw.dir).filter((f) => !f.endsWith('portcullis.yaml'));
    assert.ok(
      files.some((f) => f.endsWith('portcullis.db')) && files.some((f) => f.endsWith('audit.db')),
      `searched: ${files.join(', ')}`,
    );
    for (const f of files) assertNoLeak(f, readFileSync(f), needles);
    const payloads = await runCli(gw, ['payloads', 'show', 'none']);
    assert.equal(
      payloads.code,
      1,
      'the store opens with the planted master key (the search covered a live encrypted store)',
    );
  } finally {
    await gw.stop();
  }
});

test('secret hygiene: PostgreSQL-backed gateway, searched with pg_dump', { timeout: 240_000 }, async (t) => {
  const pgDump = await promisify(execFile)('pg_dump', ['--version']).then(
    () => true,
    () => false,
  );
  if (!pgDump) {
    t.skip('pg_dump is not on PATH');
    return;
  }
  const db = await createTestDatabase('portcullis_hygiene');
  cliEnv = { PCL_DB: db.url };
  const gw = await startGateway({
    stateYaml: `store:\n  driver: postgres\n  url: "\${PCL_DB}"\nsecurity:\n  data_dir: ./state\n${SECURITY}${EXTRA}`,
    mockOptions: { keys: { openai: PROVIDER_KEY } },
    env: { ...ENV, PCL_DB: db.url },
  });
  try {
    const { key, revoked } = await keys(gw);
    const responses = await drive(gw, key, revoked);
    await stopProcess(gw);
    const dump = (
      await promisify(execFile)('pg_dump', ['--no-owner', db.url], { maxBuffer: 64 * 1024 * 1024, encoding: 'buffer' })
    ).stdout as Buffer;
    const logged = await db.query<{ n: string }>('SELECT count(*) AS n FROM payload_log');
    assert.ok(
      Number(logged.rows[0]!.n) >= 4,
      'the payload log holds the model calls (so the dump covers encrypted bodies)',
    );
    const needles = [...BASE_NEEDLES(), ...forms('virtual key', key), ...forms('revoked virtual key', revoked)];
    assertNoLeak('pg_dump', dump, needles);
    assertNoLeak('responses', responses, needles);
    assertNoLeak('gateway stdout/stderr', Buffer.from(await gw.settledOutput()), needles);
    for (const f of filesUnder(gw.dir).filter((p) => !p.endsWith('portcullis.yaml')))
      assertNoLeak(f, readFileSync(f), needles);
  } finally {
    await gw.stop();
    await db.drop();
  }
});
