/**
 * The audit log of stateless instances: two real gateway processes on one PostgreSQL database
 * (created here, dropped after), each appending to its own hash chain.
 *
 * - The admin API of either instance reads the records of both (`/admin/v1/audit`, and
 *   `/admin/v1/security-events` for a refused admin login made on the other one).
 * - `audit verify` checks every chain and names each; tampering is named per chain (an altered
 *   record in one, a correctly chained forged record appended to another).
 * - kill -9 of an instance under load loses no record of a request it answered; its chain's
 *   unsigned tail is reported as such, and signed by the next process that takes the chain.
 * - A key suspended by threat detection on one instance is refused by the other, and an alert
 *   delivery that one instance dead-lettered is listed by `alerts dead-letters` on the other.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { recordHash } from '../src/audit/canonical.ts';
import { toRecord } from '../src/audit/rows.ts';
import { keyedHash, newAdminToken, tokenDisplayPrefix } from '../src/identity/admin/admin-secrets.ts';
import { sampleAdminUser } from '../src/store/admin-contract.ts';
import { createPostgresStore } from '../src/store/postgres/postgres-store.ts';
import { createTestDatabase, type TestDatabase } from '../src/store/postgres/test-database.ts';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

const KHS = randomBytes(32).toString('base64url');
const MASTER = randomBytes(32).toString('base64');
const keyDir = mkdtempSync(join(tmpdir(), 'portcullis-audit-pg-key-'));
const KEY_FILE = join(keyDir, 'audit-signing.pem');
writeFileSync(KEY_FILE, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), {
  mode: 0o600,
});

// Both suites use the key; it goes when the file is done.
after(() => rmSync(keyDir, { recursive: true, force: true }));

const SERVER =
  'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\nadmin:\n  enabled: true\n' +
  // No timed checkpoint during the test: what is unsigned is what the test expects to be.
  `audit:\n  signing_key: "\${file:${KEY_FILE}}"\n  checkpoint_every: 1000\n  checkpoint_interval_ms: 3600000\n`;
const STATE = [
  'store:',
  '  driver: postgres',
  '  url: "${DATABASE_URL}"',
  '  pool_size: 4',
  'security:',
  '  data_dir: ./state',
  '  key_hash_secret: "${PORTCULLIS_KEY_HASH_SECRET}"',
  '  master_key: "${PORTCULLIS_MASTER_KEY}"',
  '',
].join('\n');

interface Page {
  data: Array<{
    chain?: string;
    seq: number;
    action: string;
    decision: string;
    request_id: string | null;
    target: string | null;
  }>;
  next_after: number | null;
}

describe('audit log in PostgreSQL across two instances', { timeout: 400_000 }, () => {
  let db: TestDatabase;
  let one: RunningGateway;
  let two: RunningGateway;
  let token = '';
  let key = '';
  const start = () =>
    startGateway({
      serverYaml: SERVER,
      stateYaml: STATE,
      env: { DATABASE_URL: db.url, PORTCULLIS_KEY_HASH_SECRET: KHS, PORTCULLIS_MASTER_KEY: MASTER },
    });

  before(async () => {
    db = await createTestDatabase('portcullis_audit_it');
    one = await start();
    two = await start();
    const store = createPostgresStore({ url: db.url, poolSize: 1 });
    await store.init();
    try {
      await store.insertAdminUser(
        sampleAdminUser({
          id: 'u_auditor',
          tenantId: 'default',
          teamId: null,
          role: 'security_auditor',
          email: 'auditor@example.com',
        }),
      );
      token = newAdminToken();
      await store.insertAdminToken({
        id: 'atk_auditor',
        userId: 'u_auditor',
        tenantId: 'default',
        label: 'audit',
        prefix: tokenDisplayPrefix(token),
        hash: keyedHash(Buffer.from(KHS, 'utf8'), 'admin-token', token),
        actions: null,
        createdAt: new Date().toISOString(),
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
      });
    } finally {
      await store.close();
    }
    key = await one.createKey();
  });
  after(async () => {
    await one?.stop();
    await two?.stop();
    await db?.drop();
  });

  const chat = async (gw: RunningGateway) => {
    const res = await rawRequest(`${gw.url}/v1/chat/completions`, {
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hello' }] }),
    });
    return { status: res.status, id: res.headers.get('x-request-id') };
  };
  const admin = async (gw: RunningGateway, path: string) => {
    const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as Page;
  };
  const verify = async (gw: RunningGateway, ...flags: string[]) => {
    const r = await gw.cli(['audit', 'verify', '--config', gw.configPath, '--json', ...flags]);
    return {
      code: r.code,
      report: JSON.parse(r.stdout) as {
        ok: boolean;
        chains: Array<{
          chain: string;
          ok: boolean;
          records: number;
          unsignedRecords: number;
          finding?: { kind: string; seq: number };
        }>;
      },
    };
  };

  test('the admin API of either instance reads the records both wrote; verify checks both chains', async () => {
    const ids = { one: [] as string[], two: [] as string[] };
    for (let i = 0; i < 3; i++) {
      for (const [name, gw] of [
        ['one', one],
        ['two', two],
      ] as const) {
        const r = await chat(gw);
        assert.equal(r.status, 200);
        ids[name].push(r.id!);
      }
    }
    // A refused admin sign-in on instance two is a security event instance one shows.
    const login = await fetch(`${two.url}/admin/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'auditor@example.com', password: 'wrong-password-123', totp_code: '000000' }),
    });
    assert.equal(login.status, 401);
    for (const gw of [one, two]) {
      const page = await admin(gw, '/admin/v1/audit?from=2000-01-01&to=2999-01-01&limit=1000');
      const seen = new Set(
        page.data.filter((r) => r.action === 'model.call' && r.decision === 'allowed').map((r) => r.request_id),
      );
      for (const id of [...ids.one, ...ids.two])
        assert.ok(seen.has(id), `${id} is read through ${gw === one ? 'one' : 'two'}`);
      const chains = new Set(page.data.filter((r) => r.action === 'model.call').map((r) => r.chain));
      assert.equal(chains.size, 2, 'the records come from two chains');
    }
    let events: Page['data'] = [];
    for (let i = 0; i < 50 && !events.some((e) => e.action === 'admin.login'); i++) {
      events = (await admin(one, '/admin/v1/security-events?from=2000-01-01&to=2999-01-01')).data;
      if (!events.some((e) => e.action === 'admin.login')) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(
      events.some((e) => e.action === 'admin.login' && e.decision === 'refused'),
      'instance one shows the refused login made on instance two',
    );
    // Paging across chains: one record per page still reaches every record.
    let after = 0;
    let pages = 0;
    const paged = new Set<string | null>();
    for (;;) {
      const page = await admin(two, `/admin/v1/audit?from=2000-01-01&to=2999-01-01&limit=1&after=${after}`);
      for (const r of page.data) paged.add(r.request_id);
      pages++;
      if (page.next_after === null || pages > 500) break;
      after = page.next_after;
    }
    for (const id of [...ids.one, ...ids.two]) assert.ok(paged.has(id), `${id} is reached by paging`);

    // The CLI export reads every chain; CSV leads with the chain.
    const exported = await two.cli([
      'audit',
      'export',
      '--config',
      two.configPath,
      '--from',
      '2000-01-01',
      '--to',
      '2999-01-01',
    ]);
    assert.equal(exported.code, 0, exported.stderr);
    const lines = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { chain: string; request_id: string | null });
    for (const id of [...ids.one, ...ids.two])
      assert.ok(
        lines.some((l) => l.request_id === id),
        `${id} is exported`,
      );
    const csv = await two.cli([
      'audit',
      'export',
      '--config',
      two.configPath,
      '--from',
      '2000-01-01',
      '--to',
      '2999-01-01',
      '--format',
      'csv',
    ]);
    assert.match(csv.stdout, /^chain,seq,time,actor_kind/);

    // Both instances run: their newest records are not signed yet, and strict verify says so.
    const strict = await verify(one);
    assert.equal(strict.code, 1);
    const live = await verify(one, '--allow-unsigned-tail');
    assert.equal(live.code, 0, JSON.stringify(live.report));
    assert.ok(live.report.chains.length >= 2);
    assert.ok(
      live.report.chains.filter((c) => c.unsignedRecords > 0).length >= 2,
      'each running instance has its own unsigned tail',
    );
    const text = await one.cli(['audit', 'verify', '--config', one.configPath, '--allow-unsigned-tail']);
    assert.match(text.stdout, /VALID, \d+ chain\(s\) \(one per gateway instance\)/);
  });

  test('kill -9 of an instance under load loses no record of a request it answered', async () => {
    const answered: string[] = [];
    let killed = false;
    const kill = () => {
      if (!killed) {
        killed = true;
        two.proc.kill('SIGKILL');
      }
    };
    await Promise.all(
      Array.from({ length: 120 }, async () => {
        try {
          const r = await chat(two);
          if (r.status === 200 && r.id) answered.push(r.id);
          if (answered.length >= 40) kill();
        } catch {
          // Cut off by the kill.
        }
      }),
    );
    kill();
    if (two.proc.exitCode === null && two.proc.signalCode === null) await once(two.proc, 'exit');
    assert.equal(two.proc.signalCode, 'SIGKILL');
    assert.ok(answered.length >= 40, `at least 40 answered before the kill (got ${answered.length})`);
    const stored = await db.query<{ request_id: string }>(
      "SELECT request_id FROM audit_records WHERE action = 'model.call' AND decision = 'allowed'",
    );
    const have = new Set(stored.rows.map((r) => r.request_id));
    assert.deepEqual(
      answered.filter((id) => !have.has(id)),
      [],
      'every request answered 200 has its durable allowed record',
    );

    // The dead instance's chain ends unsigned; any process that opens the log takes it over and signs it.
    const before = await verify(one);
    assert.ok(before.report.chains.some((c) => c.finding?.kind === 'unsigned_tail'));
    await one.createKey();
    // A clean shutdown signs instance one's head (stop() would also delete its config folder).
    one.proc.kill('SIGTERM');
    await once(one.proc, 'exit');
    const after = await verify(one);
    assert.equal(after.code, 0, JSON.stringify(after.report));
    assert.ok(after.report.chains.every((c) => c.ok && c.unsignedRecords === 0));
  });

  test('tampering is named per chain: an altered record in one, a forged record chained onto another', async () => {
    const { report } = await verify(one);
    const [first, second] = report.chains.filter((c) => c.records >= 3).map((c) => c.chain) as [string, string];
    assert.ok(first !== undefined && second !== undefined, 'two chains with records');
    await db.query('ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only');
    await db.query("UPDATE audit_records SET decision = 'refused' WHERE chain_id = $1 AND seq = 2", [first]);
    const last = toRecord(
      (await db.query('SELECT * FROM audit_records WHERE chain_id = $1 ORDER BY seq DESC LIMIT 1', [second])).rows[0]!,
    );
    const forged = { ...last, seq: last.seq + 1, requestId: 'forged', prevHash: last.hash };
    await db.query(
      `INSERT INTO audit_records (chain_id, seq, time, actor_kind, actor_id, actor_tenant, action, target, decision, reason, request_id, metadata, prev_hash, hash)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        second,
        forged.seq,
        forged.time,
        forged.actorKind,
        forged.actorId,
        forged.actorTenant,
        forged.action,
        forged.target,
        forged.decision,
        forged.reason,
        forged.requestId,
        forged.metadata,
        last.hash,
        recordHash(forged.seq, forged, last.hash),
      ],
    );
    await db.query('ALTER TABLE audit_records ENABLE TRIGGER audit_records_append_only');
    const tampered = await verify(one);
    assert.equal(tampered.code, 1);
    const byChain = new Map(tampered.report.chains.map((c) => [c.chain, c.finding]));
    assert.deepEqual([byChain.get(first)?.kind, byChain.get(first)?.seq], ['altered', 2]);
    assert.deepEqual([byChain.get(second)?.kind, byChain.get(second)?.seq], ['unsigned_tail', forged.seq]);
    const text = await one.cli(['audit', 'verify', '--config', one.configPath]);
    assert.match(text.stderr, new RegExp(`first bad record of chain ${first}: seq 2 \\(altered\\)`));
    assert.match(text.stderr, new RegExp(`first bad record of chain ${second}: seq ${forged.seq} \\(unsigned_tail\\)`));
  });
});

describe('threat responses and dead letters across two instances on PostgreSQL', { timeout: 400_000 }, () => {
  let db: TestDatabase;
  let one: RunningGateway;
  let two: RunningGateway;
  const threats = `threat_detection:
  rules:
    brute_force: { enabled: false }
    credential_stuffing: { enabled: false }
    new_network: { enabled: false }
    usage_spike: { enabled: false }
    repeated_refusals: { threshold: 3, window_s: 600, action: suspend, duration_s: 300 }
alerts:
  max_attempts: 1
  webhooks:
    - { id: unreachable, url: "http://127.0.0.1:1/hook", secret: "\${ALERT_SECRET}", allow_private_network: true }
`;
  const start = () =>
    startGateway({
      serverYaml: SERVER + threats,
      stateYaml: STATE,
      env: {
        DATABASE_URL: db.url,
        PORTCULLIS_KEY_HASH_SECRET: KHS,
        PORTCULLIS_MASTER_KEY: MASTER,
        ALERT_SECRET: 'integration-webhook-secret-0123456789',
      },
    });
  before(async () => {
    db = await createTestDatabase('portcullis_threat_it');
    one = await start();
    two = await start();
  });
  after(async () => {
    await one?.stop();
    await two?.stop();
    await db?.drop();
  });

  test('a key suspended on one instance is refused on the other; the dead letter is seen from both', async () => {
    const key = await one.createKey();
    const call = (gw: RunningGateway, messages: unknown) =>
      rawRequest(`${gw.url}/v1/chat/completions`, {
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt', messages }),
      });
    assert.equal((await call(one, [{ role: 'user', content: 'hi' }])).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await call(two, 'not a list')).status, 400);
    assert.equal((await call(two, [{ role: 'user', content: 'hi' }])).status, 403, 'suspended where it was detected');
    let status = 200;
    const deadline = Date.now() + 15_000;
    while (status === 200 && Date.now() < deadline) {
      const r = await call(one, [{ role: 'user', content: 'hi' }]);
      status = r.status;
      if (status === 200) await new Promise((res) => setTimeout(res, 200));
      else assert.equal((r.json as { error: { code: string } }).error.code, 'auth.key_suspended');
    }
    assert.equal(status, 403, 'the other instance refuses the suspended key too');

    let shared: Array<{ webhook_id: string; event_type: string; source?: string }> = [];
    while (Date.now() < deadline + 15_000 && !shared.some((l) => l.source === 'audit_log')) {
      const listed = await one.cli(['alerts', 'dead-letters', '--config', one.configPath, '--json']);
      assert.equal(listed.code, 0, listed.stderr);
      shared = listed.stdout
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as (typeof shared)[number]);
      if (!shared.some((l) => l.source === 'audit_log')) await new Promise((res) => setTimeout(res, 200));
    }
    const letter = shared.find((l) => l.source === 'audit_log');
    assert.deepEqual(
      [letter?.webhook_id, letter?.event_type],
      ['unreachable', 'threat.repeated_refusals'],
      "instance two's dead letter is listed through instance one",
    );
  });
});
