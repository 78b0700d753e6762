/**
 * Dry-run on real traffic, end to end: real requests go through a real gateway under policy A
 * (some of them refused), `portcullis policy dry-run B` replays the recorded window under A and
 * under B, and then B is made the active policy (the gateway restarted on the same store with
 * B) and the same requests are sent again. The dry-run's counts for B, per verdict and per
 * error code, must equal what the real pipeline decided under B; its counts for A must equal
 * what A decided. `policy explain` traces one request under B. The same again with the records
 * and keys in PostgreSQL and the live counters in Redis.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'redis';
import { keyedHash, newAdminToken, tokenDisplayPrefix } from '../src/identity/admin/admin-secrets.ts';
import { sampleAdminUser } from '../src/store/admin-contract.ts';
import { createTestDatabase, type TestDatabase } from '../src/store/postgres/test-database.ts';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { providersYaml, type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

const SERVER =
  'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\nadmin:\n  enabled: true\npolicy:\n  operator_tenant: ops\n';
const KHS = 'policy-dry-run-test-secret-0123456789abcdef';
const state = (dir: string) =>
  `store:\n  path: ${join(dir, 'state', 'portcullis.db')}\nsecurity:\n  data_dir: ${join(dir, 'state')}\n  key_hash_secret: "\${PORTCULLIS_TEST_KHS}"\n`;
const MODELS_A = `models:
  gpt:
    targets: [ { provider: openai, model: gpt-4o-mini } ]
  mistral:
    targets: [ { provider: mistral, model: mistral-small-latest } ]
  llama:
    targets: [ { provider: llama, model: meta-llama/Llama-3.1-8B-Instruct } ]
  embed:
    type: embeddings
    targets: [ { provider: openai, model: text-embedding-3-small } ]
`;
const POLICY_A = 'limits:\n  rules:\n    - { scope: key, model: gpt, requests_per_minute: 6, burst: 3 }\n';
// B: gpt's burst cut to 2, a token limit on mistral, llama withdrawn, a lower output cap, and
// embeddings moved to another upstream model with a price of its own.
const MODELS_B = `models:
  gpt:
    targets: [ { provider: openai, model: gpt-4o-mini } ]
  mistral:
    targets: [ { provider: mistral, model: mistral-small-latest } ]
  embed:
    type: embeddings
    targets: [ { provider: openai, model: text-embedding-3-large } ]
`;
const POLICY_B = `limits:
  rules:
    - { scope: key, model: gpt, requests_per_minute: 6, burst: 2 }
    - { scope: key, model: mistral, tokens_per_minute: 120 }
payload:
  max_output_tokens: 2000
`;

interface Sent {
  readonly status: number;
  readonly code: string | null;
}

/** The traffic, in a fixed order, sent one request after another. */
async function sendTraffic(gw: RunningGateway, k1: string, k2: string): Promise<Sent[]> {
  const chat = (key: string, body: Record<string, unknown>) =>
    rawRequest(`${gw.url}/v1/chat/completions`, {
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Say hello in French.' }], ...body }),
    });
  const embed = (key: string) =>
    rawRequest(`${gw.url}/v1/embeddings`, {
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'embed', input: ['one', 'two'] }),
    });
  const plan: Array<() => ReturnType<typeof rawRequest>> = [
    ...Array.from({ length: 5 }, () => () => chat(k1, { model: 'gpt' })),
    () => chat(k2, { model: 'gpt', max_tokens: 50 }),
    () => chat(k2, { model: 'mistral', max_tokens: 100 }),
    () => chat(k2, { model: 'gpt', max_tokens: 3000 }),
    () => chat(k2, { model: 'mistral', max_tokens: 100 }),
    () => chat(k2, { model: 'llama' }),
    () => chat(k2, { model: 'mistral', max_tokens: 100, stream: true }),
    () => embed(k1),
    () => chat(k2, { model: 'gpt' }),
  ];
  const out: Sent[] = [];
  for (const send of plan) {
    const res = await send();
    out.push({ status: res.status, code: res.status < 400 ? null : String(res.json?.error?.code) });
  }
  return out;
}

function tally(sent: readonly Sent[]) {
  const byCode: Record<string, number> = {};
  let allowed = 0;
  let throttled = 0;
  let refused = 0;
  for (const s of sent) {
    if (s.code === null) {
      allowed++;
      continue;
    }
    byCode[s.code] = (byCode[s.code] ?? 0) + 1;
    if (s.code.startsWith('limit.')) throttled++;
    else refused++;
  }
  return { allowed, refused, throttled, byCode };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('policy dry-run against the real pipeline', { timeout: 120_000 }, () => {
  let gwA: RunningGateway;
  let gwB: RunningGateway | undefined;
  let underA: Sent[];
  let k1: string;
  let k2: string;
  let k2Id: string;
  let candidatePath: string;
  let adminReport: { candidate: unknown; active: unknown } | undefined;
  const tokens: Record<'admin' | 'auditor' | 'outsider', string> = { admin: '', auditor: '', outsider: '' };

  /** Admin users straight into the store: an admin and an auditor of the operator tenant, an admin elsewhere. */
  async function seedAdmins(): Promise<void> {
    const store = createSqliteStore({ path: join(gwA.dir, 'state', 'portcullis.db'), batchWindowMs: 0 });
    await store.init();
    const now = new Date().toISOString();
    const seeds = [
      ['admin', 'ops', 'admin'],
      ['auditor', 'ops', 'security_auditor'],
      ['outsider', 'other', 'owner'],
    ] as const;
    for (const [who, tenantId, role] of seeds) {
      const user = sampleAdminUser({ tenantId, role, email: `${who}@example.com` });
      await store.insertAdminUser(user);
      const token = newAdminToken();
      await store.insertAdminToken({
        id: `atk_${who}`,
        userId: user.id,
        tenantId,
        label: who,
        prefix: tokenDisplayPrefix(token),
        hash: keyedHash(Buffer.from(KHS, 'utf8'), 'admin-token', token),
        actions: null,
        createdAt: now,
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
      });
      tokens[who] = token;
    }
    await store.close();
  }

  async function admin(who: keyof typeof tokens, path: string, body: unknown) {
    const res = await rawRequest(`${gwA.url}${path}`, {
      headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, code: res.json?.error?.code as string | undefined, json: res.json };
  }

  before(async () => {
    gwA = await startGateway({
      serverYaml: `${SERVER}${POLICY_A}`,
      stateYaml:
        'store:\n  path: ./state/portcullis.db\nsecurity:\n  data_dir: ./state\n  key_hash_secret: "${PORTCULLIS_TEST_KHS}"\n',
      modelsYaml: MODELS_A,
      env: { PORTCULLIS_TEST_KHS: KHS },
    });
    k1 = await gwA.createKey({ label: 'one' });
    const created = await gwA.cli([
      'keys',
      'create',
      '--config',
      gwA.configPath,
      '--label',
      'two',
      '--models',
      '*',
      '--json',
    ]);
    const j = JSON.parse(created.stdout) as { key: string; id: string };
    k2 = j.key;
    k2Id = j.id;
    underA = await sendTraffic(gwA, k1, k2);
    // The candidate document: policy sections only (providers are policy too).
    candidatePath = join(gwA.dir, 'candidate.yaml');
    writeFileSync(candidatePath, `${providersYaml(gwA.mock)}${MODELS_B}${POLICY_B}`);
    await seedAdmins();
    await sleep(300); // request records are written in small batches
  });
  after(async () => {
    await gwB?.stop();
    await gwA.stop();
  });

  test('policy A refused some of the traffic', () => {
    assert.deepEqual(tally(underA), { allowed: 11, refused: 0, throttled: 2, byCode: { 'limit.requests': 2 } });
  });

  test('the admin API dry-run is role-checked, refuses an invalid document with every problem, and answers JSON', async () => {
    const document = readFileSync(candidatePath, 'utf8');
    const byAuditor = await admin('auditor', '/admin/v1/policy/dry-run', { document, since: '1h' });
    assert.deepEqual([byAuditor.status, byAuditor.code], [403, 'rbac.forbidden'], 'dry-run needs policy.propose');
    const byOutsider = await admin('outsider', '/admin/v1/policy/dry-run', { document, since: '1h' });
    assert.deepEqual([byOutsider.status, byOutsider.code], [403, 'policy.operator_only']);
    const invalidDoc = await admin('admin', '/admin/v1/policy/dry-run', {
      document: 'limits:\n  rules:\n    - { scope: planet, requests_per_minute: -1 }\nserver: { port: 1 }\n',
    });
    assert.deepEqual([invalidDoc.status, invalidDoc.code], [400, 'policy.invalid']);
    const paths = (invalidDoc.json.error.details as Array<{ path: string }>).map((d) => d.path);
    assert.ok(paths.includes('server') && paths.some((p) => p.startsWith('limits.rules[0]')), JSON.stringify(paths));
    const badWindow = await admin('admin', '/admin/v1/policy/dry-run', { document, since: 'last week' });
    assert.deepEqual([badWindow.status, badWindow.code], [400, 'request.invalid']);

    const ok = await admin('admin', '/admin/v1/policy/dry-run', { document, since: '1h', max_records: 1000 });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.json.sample.records, underA.length);
    assert.deepEqual(ok.json.active, tally(underA));
    adminReport = ok.json;

    const explained = await admin('auditor', '/admin/v1/policy/explain', {
      request: { model: 'llama', messages: [{ role: 'user', content: 'hi' }] },
      key_id: k2Id,
      document,
    });
    assert.equal(explained.status, 200, JSON.stringify(explained.json));
    assert.deepEqual(
      [explained.json.verdict, explained.json.stage, explained.json.rule, explained.json.code],
      ['refused', 'route', 'route:llama', 'model.not_found'],
    );
    const noKey = await admin('auditor', '/admin/v1/policy/explain', { request: {}, key_id: 'key_nope' });
    assert.deepEqual([noKey.status, noKey.code], [404, 'resource.not_found']);
  });

  test('the dry-run of B predicts exactly what B decides on the same requests', async () => {
    const run = await gwA.cli([
      'policy',
      'dry-run',
      candidatePath,
      '--config',
      gwA.configPath,
      '--since',
      '1h',
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as {
      sample: {
        records: number;
        replayed: number;
        truncated: boolean;
        skipped: Record<string, number>;
        assumedUsage: number;
      };
      active: ReturnType<typeof tally>;
      candidate: ReturnType<typeof tally>;
      fidelity: { matching: number; compared: number };
      rules: Array<{ rule: string; refused: number; throttled: number; rerouted: number; released: number }>;
      keys: Array<{ id: string; changed: number }>;
    };
    assert.deepEqual(
      [report.sample.records, report.sample.replayed, report.sample.truncated, report.sample.skipped],
      [underA.length, underA.length, false, {}],
    );
    assert.deepEqual(report.active, tally(underA), 'the replay of A agrees with what A decided');
    assert.deepEqual(report.fidelity, { matching: underA.length, compared: underA.length });
    assert.equal(report.sample.assumedUsage, 0, 'B lets through nothing that A refused');

    // Now make B the active policy: applied as a version in the store, and a gateway restarted
    // on the same store (same keys) with B in its file, so it runs B with fresh counters whether
    // it takes its policy from the file or from the store. (The process only: the state folder
    // stays for B; gwA.stop() removes it at the end.)
    gwA.proc.kill('SIGTERM');
    await once(gwA.proc, 'exit');
    const applied = await gwA.cli(['policy', 'apply', candidatePath, '--config', gwA.configPath, '--comment', 'B']);
    assert.equal(applied.code, 0, applied.stderr);
    // With B stored as the active version, a dry-run of B against it changes nothing.
    const again = await gwA.cli(['policy', 'dry-run', candidatePath, '--config', gwA.configPath, '--json']);
    assert.equal(again.code, 0, again.stderr);
    const same = JSON.parse(again.stdout) as { active_policy: number | null; changed: number; rules: unknown[] };
    assert.deepEqual([typeof same.active_policy, same.changed, same.rules], ['number', 0, []]);
    gwB = await startGateway({
      serverYaml: SERVER,
      stateYaml: state(gwA.dir),
      env: { PORTCULLIS_TEST_KHS: KHS },
      modelsYaml: MODELS_B,
      extraYaml: POLICY_B,
    });
    const underB = await sendTraffic(gwB, k1, k2);
    const real = tally(underB);
    assert.ok(real.throttled > 0 && real.refused > 0, `B refuses and throttles: ${JSON.stringify(real)}`);
    assert.deepEqual(report.candidate, real, 'dry-run counts equal what the real pipeline decided under B');
    assert.deepEqual(adminReport?.candidate, real, 'and so do the admin API counts');

    const rule = (name: string) => report.rules.find((r) => r.rule === name);
    assert.equal(rule('key-gpt-rpm')?.throttled, 1, 'one more gpt request throttled by the smaller burst');
    assert.equal(rule('payload:max_output_tokens')?.refused, 1);
    assert.equal(rule('route:llama')?.refused, 1);
    assert.equal(rule('route:embed')?.rerouted, 1);
    assert.ok((rule('key-mistral-tpm')?.throttled ?? 0) >= 1, 'the new token limit throttles, settled with real usage');
    assert.equal(report.keys[0]?.id, k2Id, 'the key that sent most of the affected requests comes first');
  });

  test('explain traces one request under the candidate: stage, rule, limits', async () => {
    const requestPath = join(gwA.dir, 'request.json');
    writeFileSync(
      requestPath,
      JSON.stringify({ model: 'gpt', max_tokens: 3000, messages: [{ role: 'user', content: 'hi' }] }),
    );
    const configPath = gwB?.configPath ?? gwA.configPath;
    const refused = await gwA.cli([
      'policy',
      'explain',
      '--request',
      requestPath,
      '--key',
      k2Id,
      '--policy',
      candidatePath,
      '--config',
      configPath,
      '--json',
    ]);
    assert.equal(refused.code, 0, refused.stderr);
    const e = JSON.parse(refused.stdout) as { verdict: string; stage: string; rule: string; code: string };
    assert.deepEqual(
      [e.verdict, e.stage, e.rule, e.code],
      ['refused', 'validate', 'payload:max_output_tokens', 'request.output_limit'],
    );

    writeFileSync(
      requestPath,
      JSON.stringify({ model: 'gpt', max_tokens: 30, messages: [{ role: 'user', content: 'hi' }] }),
    );
    const table = await gwA.cli(['policy', 'explain', '--request', requestPath, '--key', k2Id, '--config', configPath]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /ALLOWED/);
    assert.match(table.stdout, /limit\s+passed/);
    assert.match(table.stdout, /key-gpt-rpm: 6 requests per minute \(burst 2\)/);

    const bad = await gwA.cli(['policy', 'dry-run', requestPath, '--config', configPath]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /model: 'model' is not policy|not policy/);
  });
});

describe('policy dry-run on PostgreSQL with Redis counters', { timeout: 120_000 }, () => {
  const REDIS_URL = process.env.PORTCULLIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const run = randomBytes(4).toString('hex');
  const pgState =
    'store:\n  driver: postgres\n  url: "${DATABASE_URL}"\n  pool_size: 4\nsecurity:\n  data_dir: ./state\n  key_hash_secret: "${PORTCULLIS_TEST_KHS}"\n';
  // Each policy's gateway counts in Redis under its own prefix, so B starts from fresh counters as a replay does.
  const redisYaml = (prefix: string) => `redis: { url: "\${TEST_REDIS_URL}", key_prefix: "${prefix}" }\n`;
  const withRedisBackend = (policy: string) => policy.replace('limits:\n', 'limits:\n  backend: redis\n');
  let db: TestDatabase;
  let gwA: RunningGateway;
  let gwB: RunningGateway | undefined;
  before(async () => {
    db = await createTestDatabase('portcullis_test_dryrun');
  });
  after(async () => {
    await gwB?.stop();
    await gwA?.stop();
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    for (const k of await redis.keys(`pdr-${run}-*`)) await redis.del(k);
    await redis.close();
    await db?.drop();
  });

  test('the dry-run counts equal what B decides, with the records and keys in PostgreSQL', async () => {
    const env = { DATABASE_URL: db.url, PORTCULLIS_TEST_KHS: KHS, TEST_REDIS_URL: REDIS_URL };
    gwA = await startGateway({
      serverYaml: `${SERVER}${redisYaml(`pdr-${run}-a:`)}${withRedisBackend(POLICY_A)}`,
      stateYaml: pgState,
      modelsYaml: MODELS_A,
      env,
    });
    const k1 = await gwA.createKey({ label: 'one' });
    const k2 = await gwA.createKey({ label: 'two' });
    const underA = await sendTraffic(gwA, k1, k2);
    assert.deepEqual(tally(underA).byCode, { 'limit.requests': 2 });
    const candidatePath = join(gwA.dir, 'candidate.yaml');
    writeFileSync(candidatePath, `${providersYaml(gwA.mock)}${MODELS_B}${withRedisBackend(POLICY_B)}`);
    await sleep(300);
    const dry = await gwA.cli(['policy', 'dry-run', candidatePath, '--config', gwA.configPath, '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const report = JSON.parse(dry.stdout) as { active: unknown; candidate: unknown; sample: { records: number } };
    assert.equal(report.sample.records, underA.length);
    assert.deepEqual(report.active, tally(underA));

    // B becomes the active version in the store, and a gateway with B in its file runs it.
    const applied = await gwA.cli(['policy', 'apply', candidatePath, '--config', gwA.configPath, '--comment', 'B']);
    assert.equal(applied.code, 0, applied.stderr);
    gwB = await startGateway({
      serverYaml: `${SERVER}${redisYaml(`pdr-${run}-b:`)}`,
      stateYaml: pgState,
      modelsYaml: MODELS_B,
      extraYaml: withRedisBackend(POLICY_B),
      env,
    });
    const underB = await sendTraffic(gwB, k1, k2);
    assert.deepEqual(report.candidate, tally(underB));
  });
});
