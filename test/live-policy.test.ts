/**
 * Live policy across two real gateway processes sharing one PostgreSQL database (created here,
 * dropped after), one Redis and one provider emulator (so both run the same config text):
 *
 * - a limit applied through instance A's admin API is enforced by instance B within 2 s, while a
 *   stream B began before the apply runs to its end under the old snapshot; request records and
 *   access log lines carry the version each request ran under;
 * - SIGHUP on A makes its edited file the active version everywhere; an invalid file changes nothing;
 * - a version B cannot build (an environment variable missing there) leaves B on the previous
 *   version, and B says so: log line, metrics, GET /admin/v1/policy/status;
 * - B restarted (with the variable) comes back on the store's active version, not its file's.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { keyedHash, newAdminToken, tokenDisplayPrefix } from '../src/identity/admin/admin-secrets.ts';
import { DEFAULT_MOCK_KEYS, type MockUpstream, startMockUpstream } from '../src/mock-upstream/index.ts';
import { sampleAdminUser } from '../src/store/admin-contract.ts';
import { createPostgresStore } from '../src/store/postgres/postgres-store.ts';
import { createTestDatabase, type TestDatabase } from '../src/store/postgres/test-database.ts';
import type { Store } from '../src/store/store.ts';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

const REDIS_URL = process.env['PORTCULLIS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const PREFIX = `portcullis-live:${randomUUID()}:`;
const KHS = randomBytes(32).toString('base64url');
// The emulator's own key, under a variable only A has at first.
const EXTRA_KEY = DEFAULT_MOCK_KEYS.openai;
const SERVER =
  'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\nadmin:\n  enabled: true\nmetrics:\n  host: 127.0.0.1\n  port: 0\npolicy:\n  operator_tenant: ops\n  allowed_references: [EXTRA_KEY]\n  poll_interval_ms: 1000\n  heartbeat_interval_ms: 1000\n';
const STATE = [
  'store:',
  '  driver: postgres',
  '  url: "${DATABASE_URL}"',
  '  pool_size: 4',
  'security:',
  '  data_dir: ./state',
  '  key_hash_secret: "${PORTCULLIS_KEY_HASH_SECRET}"',
  'redis:',
  '  url: "${TEST_REDIS_URL}"',
  `  key_prefix: "${PREFIX}"`,
  '',
].join('\n');

interface InstanceStatus {
  pid: number;
  active_version: number | null;
  failed_version: number | null;
  failure: string | null;
  in_sync: boolean;
}

describe('live policy on two instances (PostgreSQL + Redis)', () => {
  let db: TestDatabase;
  let mock: MockUpstream;
  let store: Store;
  let a: RunningGateway;
  let b: RunningGateway;
  let key: string;
  let adminToken: string;
  const env = (withExtra: boolean) => ({
    DATABASE_URL: '',
    TEST_REDIS_URL: REDIS_URL,
    PORTCULLIS_KEY_HASH_SECRET: KHS,
    ...(withExtra ? { EXTRA_KEY } : {}),
  });
  const start = (withExtra: boolean) =>
    startGateway({
      mock,
      serverYaml: SERVER,
      stateYaml: STATE,
      env: { ...env(withExtra), DATABASE_URL: db.url },
    });

  before(async () => {
    db = await createTestDatabase('live_policy');
    // Streams take 30 ms per token, so a 60-token stream outlives an apply.
    mock = await startMockUpstream({ host: '127.0.0.1', port: 0, interTokenMs: 30 });
    a = await start(true);
    b = await start(false);
    store = createPostgresStore({ url: db.url, poolSize: 2, batchWindowMs: 0 });
    await store.init();
    key = await a.createKey();
    const now = new Date().toISOString();
    await store.insertTenant({ id: 'ops', name: 'Ops', status: 'active', createdAt: now });
    await store.insertAdminUser(sampleAdminUser({ id: 'u_ops', tenantId: 'ops', teamId: null, role: 'admin' }));
    adminToken = newAdminToken();
    await store.insertAdminToken({
      id: 'atk_ops',
      userId: 'u_ops',
      tenantId: 'ops',
      label: 'live policy test',
      prefix: tokenDisplayPrefix(adminToken),
      hash: keyedHash(Buffer.from(KHS, 'utf8'), 'admin-token', adminToken),
      actions: null,
      createdAt: now,
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    });
  });

  after(async () => {
    await b?.stop();
    await a?.stop();
    await store?.close();
    await mock?.close();
    await db?.drop();
  });

  const chat = (gw: RunningGateway, model = 'gpt') =>
    rawRequest(`${gw.url}/v1/chat/completions`, {
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] }),
    });
  const accessLines = (gw: RunningGateway) =>
    gw
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"request"'))
      .map((l) => JSON.parse(l) as { requestId: string; status: number; policyVersion?: number });
  const admin = async (gw: RunningGateway, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.url}/admin/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    // biome-ignore lint/suspicious/noExplicitAny: admin API answers read field by field below
    return JSON.parse(text) as any;
  };
  const status = async (gw: RunningGateway) => {
    const res = await fetch(`${gw.url}/admin/v1/policy/status`, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as { active_version: number; instances: InstanceStatus[] };
  };
  const metricsOf = async (gw: RunningGateway) => {
    const line = gw
      .output()
      .split('\n')
      .find((l) => l.includes('"metrics listening"'));
    assert.ok(line, 'no metrics listener line');
    return (await fetch((JSON.parse(line) as { url: string }).url)).text();
  };
  async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test('both instances start on version 1, seeded from the file', async () => {
    assert.equal(await store.activePolicyNumber(), 1);
    const s = await until('two heartbeats', 5000, async () => {
      const st = await status(a);
      return st.instances.length === 2 ? st : undefined;
    });
    assert.deepEqual(
      s.instances.map((i) => i.active_version),
      [1, 1],
    );
    assert.equal((await chat(b)).status, 200);
  });

  test("a limit applied through A's admin API is enforced by B within 2 s; a stream B began before runs to its end on the old version", async (t) => {
    const stream = await fetch(`${b.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt',
        stream: true,
        max_tokens: 60,
        messages: [{ role: 'user', content: Array(400).fill('slow').join(' ') }],
      }),
    });
    assert.equal(stream.status, 200);
    const streamId = stream.headers.get('x-request-id');
    assert.ok(streamId);
    const reader = stream.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value, { stream: true }); // the stream is running

    const { document } = await admin(a, 'GET', '/policy');
    const applied = performance.now();
    const result = await admin(a, 'POST', '/policy/apply', {
      document: { ...document, limits: { rules: [{ scope: 'key', model: 'gpt', requests_per_minute: 1, burst: 1 }] } },
      if_version: 1,
      comment: 'throttle gpt',
    });
    assert.equal(result.version.number, 2);
    assert.equal(result.local_error, undefined);
    const refused = await until('B to refuse', 5000, async () => {
      const r = await chat(b);
      return r.status === 429 ? r : undefined;
    });
    const ms = Math.round(performance.now() - applied);
    t.diagnostic(`B enforced the limit applied on A after ${ms} ms`);
    assert.ok(ms < 2000, `took ${ms} ms`);
    assert.equal(refused.json.error.code, 'limit.requests');

    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const streamEnded = performance.now();
    t.diagnostic(`the stream begun before the apply ended ${Math.round(streamEnded - applied)} ms after it`);
    assert.ok(streamEnded > applied + ms, 'the stream was still running when B adopted the new version');
    assert.match(text, /data: \[DONE\]/, 'the stream ended normally');
    assert.doesNotMatch(text, /"error"/);

    const lines = await until('the stream and refusal log lines', 3000, async () => {
      const all = accessLines(b);
      const s = all.find((l) => l.requestId === streamId);
      const r = all.find((l) => l.requestId === refused.headers.get('x-request-id'));
      return s !== undefined && r !== undefined ? { s, r } : undefined;
    });
    assert.deepEqual([lines.s.status, lines.s.policyVersion], [200, 1]);
    assert.deepEqual([lines.r.status, lines.r.policyVersion], [429, 2]);
    const records = await until('request records', 3000, async () => {
      const rows = (await db.query('SELECT id, policy_version FROM request_records WHERE id = ANY($1)', [
        [streamId, refused.headers.get('x-request-id')],
      ])) as { rows: Array<{ id: string; policy_version: string }> };
      return rows.rows.length === 2 ? rows.rows : undefined;
    });
    assert.equal(Number(records.find((r) => r.id === streamId)?.policy_version), 1);
    assert.equal(Number(records.find((r) => r.id !== streamId)?.policy_version), 2);
  });

  test('SIGHUP on A makes its edited file the active version on both; an invalid file changes nothing', async (t) => {
    writeFileSync(
      a.configPath,
      `${readFileSync(a.configPath, 'utf8')}limits:\n  rules:\n    - { scope: key, model: gpt, requests_per_minute: 1, burst: 2 }\n`,
    );
    a.proc.kill('SIGHUP');
    const reloaded = await until('A to log the reload', 3000, async () =>
      a
        .output()
        .split('\n')
        .find((l) => l.includes('"event":"policy.reloaded"')),
    );
    t.diagnostic(`A: ${reloaded}`);
    assert.equal(await store.activePolicyNumber(), 3);
    assert.equal((await store.activePolicyVersion())?.author.kind, 'file_seed');
    await until('both instances on version 3', 3000, async () => {
      const st = await status(a);
      return st.instances.filter((i) => i.active_version === 3).length === 2 ? true : undefined;
    });

    writeFileSync(a.configPath, readFileSync(a.configPath, 'utf8').replace('burst: 2 }', 'burst: 2, bogus: 2 }'));
    a.proc.kill('SIGHUP');
    const line = await until('the invalid-file log line', 3000, async () =>
      a
        .output()
        .split('\n')
        .find((l) => l.includes('"event":"policy.reload_invalid"')),
    );
    assert.match(line, /limits\.rules\[0\]\.bogus/);
    assert.equal(await store.activePolicyNumber(), 3);
  });

  test('an instance missing an environment variable stays on the old version and reports it', async () => {
    const { document, number: before } = await admin(a, 'GET', '/policy');
    assert.equal(before, 3);
    const result = await admin(a, 'POST', '/policy/apply', {
      document: {
        ...document,
        providers: {
          ...document.providers,
          extra: {
            kind: 'openai',
            base_url: mock.baseUrl('openai'),
            api_key: '${EXTRA_KEY}',
            allow_private_network: true,
          },
        },
        models: { ...document.models, extra: { targets: [{ provider: 'extra', model: 'gpt-4o-mini' }] } },
      },
      comment: 'a provider whose key only A has',
    });
    const v = result.version as { number: number };
    assert.equal(result.local_error, undefined, 'A has the variable');
    await until('A to serve the new route', 3000, async () =>
      (await chat(a, 'extra')).status === 200 ? true : undefined,
    );
    const mine = await until('B to report the failure', 3000, async () => {
      const st = await status(a);
      const me = st.instances.find((i) => i.pid === b.proc.pid);
      return me?.failed_version === v.number ? me : undefined;
    });
    assert.equal(mine.active_version, 3);
    assert.equal(mine.in_sync, false);
    assert.match(mine.failure ?? '', /EXTRA_KEY/);
    assert.ok(!JSON.stringify(await status(a)).includes(EXTRA_KEY), 'no secret value in the status');
    assert.equal((await chat(b, 'extra')).status, 404, 'B still runs version 3');
    const m = await metricsOf(b);
    assert.match(m, /^portcullis_policy_active_version 3$/m);
    assert.match(m, new RegExp(`^portcullis_policy_failed_version ${v.number}$`, 'm'));
    assert.match(m, /^portcullis_policy_applies_total\{result="failed"\} 1$/m);
    assert.match(b.output(), /"event":"policy.apply_failed"/);
  });

  test('a restarted instance comes back on the store active version, not its file', async () => {
    const active = await store.activePolicyNumber();
    await b.stop();
    b = await start(true);
    assert.equal((await chat(b, 'extra')).status, 200);
    const me = await until('B heartbeat', 3000, async () =>
      (await status(a)).instances.find((i) => i.pid === b.proc.pid),
    );
    assert.equal(me.active_version, active);
    assert.equal(me.failed_version, null);
    assert.equal(await store.activePolicyNumber(), active, 'the file did not make a version');
    assert.match(b.output(), /"event":"policy.file_ignored"/);
  });
});
