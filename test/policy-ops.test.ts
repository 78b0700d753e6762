/**
 * Live policy operations through the real gateway process and its admin API, on SQLite and on
 * PostgreSQL (the store decides numbering and the atomic activation): two concurrent applies,
 * one 409; an invalid document gets 400 naming every path and the active version is untouched;
 * an auditor cannot apply and another tenant's owner cannot even read; a proposer cannot approve
 * their own proposal (the two-person rule is on); a rollback restores exactly (same sha256);
 * an unchanged document is a no-op; audit records carry the actor and the diff's hash; the CLI
 * works on the same store with its exit codes.
 *
 * Admin users and tokens are seeded straight into the gateway's store (tokens hashed with the
 * configured secret, as the admin API stores them).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keyedHash, newAdminToken, tokenDisplayPrefix } from '../src/identity/admin/admin-secrets.ts';
import { sampleAdminUser } from '../src/store/admin-contract.ts';
import { createPostgresStore } from '../src/store/postgres/postgres-store.ts';
import { createTestDatabase, type TestDatabase } from '../src/store/postgres/test-database.ts';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../src/store/store.ts';
import { providersYaml, type RunningGateway, startGateway } from './helpers/gateway.ts';

const KHS = 'policy-ops-test-secret-0123456789abcdef';
const NOW = new Date().toISOString();

interface Reply {
  readonly status: number;
  readonly code: string | undefined;
  readonly json: Record<string, unknown>;
}

const MODELS = 'models:\n  gpt:\n    targets: [ { provider: openai, model: gpt-4o-mini } ]\n';
const limitsYaml = (rpm: number) => `limits:\n  rules:\n    - { scope: key, requests_per_minute: ${rpm} }\n`;

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`policy operations over the admin API (${backend})`, { timeout: 240_000 }, () => {
    let gw: RunningGateway;
    let store: Store;
    let db: TestDatabase | undefined;
    const tokens = new Map<string, string>();
    /** The policy document of the running file: providers (pointing at this run's emulator), models, limits. */
    let doc: (rpm: number) => string;

    async function seedAdmin(id: string, tenantId: string, role: 'owner' | 'admin' | 'security_auditor') {
      await store.insertAdminUser(sampleAdminUser({ id, tenantId, role, email: `${id}@example.com` }));
      const token = newAdminToken();
      await store.insertAdminToken({
        id: `atk_${id}`,
        userId: id,
        tenantId,
        label: 'policy-ops',
        prefix: tokenDisplayPrefix(token),
        hash: keyedHash(Buffer.from(KHS, 'utf8'), 'admin-token', token),
        actions: null,
        createdAt: NOW,
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
      });
      tokens.set(id, token);
    }

    async function api(who: string, method: string, path: string, body?: unknown): Promise<Reply> {
      const res = await fetch(`${gw.url}/admin/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${tokens.get(who)}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return {
        status: res.status,
        code: res.headers.get('x-portcullis-error-code') ?? undefined,
        json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
      };
    }

    const active = async () => {
      const r = await api('owner', 'GET', '/policy');
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return r.json as { number: number; sha256: string; document: unknown };
    };

    /** Propose as `admin`, approve as `owner`: the two-person rule's happy path. Returns the number. */
    async function proposeApproved(text: string, comment: string): Promise<number> {
      const p = await api('admin', 'POST', '/policy/versions', { document: text, comment });
      assert.equal(p.status, 201, JSON.stringify(p.json));
      const n = (p.json.version as { number: number }).number;
      const a = await api('owner', 'POST', `/policy/versions/${n}/approve`);
      assert.equal(a.status, 200, JSON.stringify(a.json));
      return n;
    }

    before(async () => {
      const policyYaml = 'policy:\n  require_approval: true\n  operator_tenant: ops\n';
      const admin = 'admin:\n  enabled: true\n  max_body_bytes: 262144\n';
      const server = `server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\n${admin}${policyYaml}`;
      if (backend === 'postgres') {
        db = await createTestDatabase('portcullis_test_policy');
        gw = await startGateway({
          serverYaml: server,
          stateYaml:
            'store:\n  driver: postgres\n  url: "${DATABASE_URL}"\n  pool_size: 4\nsecurity:\n  data_dir: ./state\n  key_hash_secret: "${PORTCULLIS_TEST_KHS}"\n',
          modelsYaml: MODELS,
          extraYaml: limitsYaml(600),
          env: { PORTCULLIS_TEST_KHS: KHS, DATABASE_URL: db.url },
        });
        store = createPostgresStore({ url: db.url, poolSize: 2, batchWindowMs: 0 });
      } else {
        gw = await startGateway({
          serverYaml: server,
          stateYaml:
            'store:\n  path: ./state/portcullis.db\nsecurity:\n  data_dir: ./state\n  key_hash_secret: "${PORTCULLIS_TEST_KHS}"\n',
          modelsYaml: MODELS,
          extraYaml: limitsYaml(600),
          env: { PORTCULLIS_TEST_KHS: KHS },
        });
        store = createSqliteStore({ path: join(gw.dir, 'state', 'portcullis.db'), batchWindowMs: 0 });
      }
      await store.init();
      const providers = providersYaml(gw.mock);
      doc = (rpm) => `${providers}${MODELS}${limitsYaml(rpm)}`;
      await store.insertTenant({ id: 'ops', name: 'Operators', status: 'active', createdAt: NOW });
      await store.insertTenant({ id: 'acme', name: 'Acme', status: 'active', createdAt: NOW });
      await seedAdmin('owner', 'ops', 'owner');
      await seedAdmin('admin', 'ops', 'admin');
      await seedAdmin('auditor', 'ops', 'security_auditor');
      await seedAdmin('acme_owner', 'acme', 'owner');
      // The first version: the running file's policy, proposed and approved by two people.
      const first = await proposeApproved(doc(600), 'the file as it is');
      const applied = await api('admin', 'POST', '/policy/apply', { version: first });
      assert.equal(applied.status, 200, JSON.stringify(applied.json));
    });

    after(async () => {
      await store?.close();
      await gw?.stop();
      await db?.drop();
    });

    it('a proposer cannot approve their own proposal, nor apply a document directly, while approval is required', async () => {
      const before = await active();
      const p = await api('admin', 'POST', '/policy/versions', { document: doc(300), comment: 'tighter' });
      assert.equal(p.status, 201);
      const n = (p.json.version as { number: number }).number;
      const self = await api('admin', 'POST', `/policy/versions/${n}/approve`);
      assert.equal(self.status, 403);
      assert.equal(self.code, 'policy.self_approval');
      const direct = await api('admin', 'POST', '/policy/apply', { document: doc(300) });
      assert.equal(direct.status, 403);
      assert.equal(direct.code, 'policy.approval_required');
      const unapproved = await api('owner', 'POST', '/policy/apply', { version: n });
      assert.equal(unapproved.code, 'policy.approval_required');
      assert.deepEqual(await active(), before);
      const rejected = await api('owner', 'POST', `/policy/versions/${n}/reject`, { reason: 'not now' });
      assert.equal(rejected.status, 200);
      assert.equal(rejected.json.state, 'rejected');
    });

    it('an auditor reads but cannot propose, approve or apply; another tenant cannot even read', async () => {
      const before = await active();
      assert.equal((await api('auditor', 'GET', '/policy')).status, 200);
      for (const [method, path, body] of [
        ['POST', '/policy/apply', { document: doc(1) }],
        ['POST', '/policy/versions', { document: doc(1) }],
        ['POST', `/policy/versions/${before.number}/approve`, undefined],
        ['POST', '/policy/rollback', {}],
      ] as const) {
        const r = await api('auditor', method, path, body);
        assert.equal(r.status, 403, path);
        assert.equal(r.code, 'rbac.forbidden', path);
      }
      for (const path of ['/policy', '/policy/versions']) {
        const r = await api('acme_owner', 'GET', path);
        assert.equal(r.status, 403);
        assert.equal(r.code, 'policy.operator_only');
      }
      const r = await api('acme_owner', 'POST', '/policy/apply', { document: doc(1) });
      assert.equal(r.code, 'policy.operator_only');
      assert.deepEqual(await active(), before);
    });

    it('two concurrent applies: one wins, the other gets 409, and the active version is the winner', async () => {
      const base = (await active()).number;
      const a = await proposeApproved(doc(100), 'a');
      const b = await proposeApproved(doc(200), 'b');
      const [ra, rb] = await Promise.all([
        api('admin', 'POST', '/policy/apply', { version: a, if_version: base }),
        api('owner', 'POST', '/policy/apply', { version: b, if_version: base }),
      ]);
      const statuses = [ra.status, rb.status].sort();
      assert.deepEqual(statuses, [200, 409], `${JSON.stringify(ra.json)} ${JSON.stringify(rb.json)}`);
      const loser = ra.status === 409 ? ra : rb;
      assert.equal(loser.code, 'policy.version_conflict');
      const winner = ra.status === 200 ? a : b;
      assert.equal((await active()).number, winner);
      // A stale if_version is refused the same way.
      const c = await proposeApproved(doc(250), 'c');
      const stale = await api('admin', 'POST', '/policy/apply', { version: c, if_version: base });
      assert.equal(stale.status, 409);
      assert.equal((await active()).number, winner);
    });

    it('an invalid document gets 400 naming every path, and the active version is untouched', async () => {
      const before = await active();
      const bad = `${doc(600)}server:\n  port: 1\npayload:\n  max_tools: -1\n  colour: red\n`.replace(
        'requests_per_minute: 600',
        'requests_per_minute: 0',
      );
      for (const path of ['/policy/apply', '/policy/validate', '/policy/versions']) {
        const r = await api('owner', 'POST', path, { document: bad });
        assert.equal(r.status, 400, path);
        assert.equal(r.code, 'policy.invalid');
        const details = (r.json.error as { details: Array<{ path: string; line: number; column: number }> }).details;
        assert.deepEqual(
          details.map((d) => d.path).sort(),
          ['limits.rules[0].requests_per_minute', 'payload.colour', 'payload.max_tools', 'server'],
          path,
        );
        for (const d of details) assert.ok(d.line > 0 && d.column > 0, JSON.stringify(d));
      }
      assert.deepEqual(await active(), before);
      const history = await api('owner', 'GET', '/policy/versions?limit=1000');
      assert.ok(
        (history.json.data as Array<{ comment: string }>).every((v) => v.comment !== 'invalid'),
        'nothing was stored',
      );
    });

    it("a version cannot send a bootstrap secret to a provider: references outside the file's policy are refused", async () => {
      const before = await active();
      // The attack: a provider the attacker controls, keyed with the gateway's key hash secret.
      const steal = `${doc(600)}`.replace(
        'providers:\n',
        `providers:\n  exfil:\n    kind: openai\n    base_url: ${gw.mock.baseUrl('openai')}\n    api_key: "\${PORTCULLIS_TEST_KHS}"\n    allow_private_network: true\n`,
      );
      for (const path of ['/policy/validate', '/policy/versions']) {
        const r = await api('owner', 'POST', path, { document: steal });
        assert.equal(r.status, 400, path);
        assert.equal(r.code, 'policy.invalid');
        const details = (r.json.error as { details: Array<{ path: string; line: number; message: string }> }).details;
        assert.deepEqual(
          details.map((d) => [d.path, d.line]),
          [['providers.exfil.api_key', 5]],
        );
        assert.equal(JSON.stringify(r.json).includes(KHS), false);
      }
      assert.deepEqual(await active(), before);
    });

    it('applying the active document again is a no-op: no new version', async () => {
      const current = await active();
      const count = ((await api('owner', 'GET', '/policy/versions?limit=1000')).json.data as unknown[]).length;
      const text = JSON.stringify(current.document, null, 2);
      const r = await api('admin', 'POST', '/policy/apply', { document: text });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.changed, false);
      assert.equal((r.json.version as { number: number }).number, current.number);
      assert.equal(((await api('owner', 'GET', '/policy/versions?limit=1000')).json.data as unknown[]).length, count);
    });

    it('rollback restores exactly: a new version with the same sha256 and document', async () => {
      const history = (await api('owner', 'GET', '/policy/versions?limit=1000')).json.data as Array<{
        number: number;
        state: string;
        sha256: string;
      }>;
      const first = history.at(-1)!;
      const r = await api('owner', 'POST', '/policy/rollback', { to: first.number, comment: 'back to the file' });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const made = r.json.version as { number: number; sha256: string };
      assert.equal(made.sha256, first.sha256);
      const now = await active();
      assert.equal(now.number, made.number);
      assert.equal(now.sha256, first.sha256);
      const original = await api('owner', 'GET', `/policy/versions/${first.number}`);
      assert.deepEqual(now.document, original.json.document);
      const diff = await api('owner', 'GET', `/policy/diff?from=${first.number}&to=active`);
      assert.deepEqual(diff.json.changes, []);
    });

    it('audit records carry the actor and the diff hash of every operation', async () => {
      const r = await api('owner', 'GET', '/audit?limit=1000');
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const records = r.json.data as Array<{
        actor: { kind: string; id: string; tenant: string };
        action: string;
        decision: string;
        reason: string | null;
        metadata: Record<string, unknown>;
      }>;
      const policy = records.filter((x) => x.action.startsWith('policy.'));
      for (const op of ['propose', 'approve', 'reject', 'apply', 'rollback'])
        assert.ok(
          policy.some((x) => x.action === `policy.${op}`),
          `no policy.${op} record`,
        );
      for (const x of policy) {
        assert.equal(x.actor.kind, 'admin');
        assert.equal(x.actor.tenant, 'ops');
        assert.ok(['owner', 'admin'].includes(x.actor.id), x.actor.id);
      }
      const applied = policy.filter((x) => x.action === 'policy.apply' && x.decision === 'allowed');
      assert.ok(applied.length >= 2);
      for (const x of applied) assert.match(String(x.metadata.diff_sha256), /^[0-9a-f]{64}$/);
      const rollback = policy.find((x) => x.action === 'policy.rollback' && x.decision === 'allowed');
      assert.match(String(rollback?.metadata.diff_sha256), /^[0-9a-f]{64}$/);
      assert.ok(policy.some((x) => x.decision === 'refused' && x.reason === 'policy.self_approval'));
      assert.ok(policy.some((x) => x.decision === 'refused' && x.reason === 'policy.version_conflict'));
    });

    it('the CLI works on the same store: history, a no-op apply (exit 0), a stale --if-version (exit 3), an invalid file (exit 1)', async () => {
      const current = await active();
      const file = join(gw.dir, 'candidate.yaml');
      writeFileSync(file, doc(42));
      const hist = await gw.cli(['policy', 'history', '--config', gw.configPath, '--json']);
      assert.equal(hist.code, 0, hist.stderr);
      assert.equal((JSON.parse(hist.stdout) as Array<{ number: number }>)[0]?.number, current.number);
      const show = await gw.cli(['policy', 'show', '--config', gw.configPath]);
      assert.equal(show.code, 0, show.stderr);
      writeFileSync(join(gw.dir, 'active.yaml'), show.stdout);
      const noop = await gw.cli(['policy', 'apply', join(gw.dir, 'active.yaml'), '--config', gw.configPath]);
      assert.equal(noop.code, 0, noop.stderr);
      assert.match(noop.stdout, /No change/);
      const stale = await gw.cli(['policy', 'apply', '1', '--if-version', '1', '--config', gw.configPath]);
      assert.equal(stale.code, 3, stale.stderr);
      writeFileSync(file, `${doc(42)}server: { port: 1 }\n`);
      const invalid = await gw.cli(['policy', 'validate', file, '--config', gw.configPath]);
      assert.equal(invalid.code, 1);
      assert.match(invalid.stderr, /candidate\.yaml:\d+:\d+: server: 'server' is not policy/);
      const usage = await gw.cli(['policy', 'apply', '--config', gw.configPath]);
      assert.equal(usage.code, 2);
      assert.equal((await active()).number, current.number);
    });
  });
}
