import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { verifyAuditInWorker } from '../../audit/verify-in-worker.ts';
import { createAuditVerifyRoutes, VERIFY_CACHE_MS } from './audit-verify.ts';
import { call, openResourceFixture, outcome, principal, type ResourceFixture, route } from './resource-fixture.ts';

type Body = { ok: boolean; status: string; checked_at: string; finding: { kind: string } | null };

describe('admin audit verify route', () => {
  let fx: ResourceFixture;
  let clock: number;
  let runs: number;
  const verifyRoute = () =>
    route(
      createAuditVerifyRoutes({ ...fx.deps, now: () => new Date(clock) }, (path, keys) => {
        runs++;
        return verifyAuditInWorker(path, keys);
      }),
      'GET',
      '/admin/v1/audit/verify',
    );

  beforeEach(async () => {
    fx = await openResourceFixture();
    clock = Date.parse('2026-01-01T00:00:00Z');
    runs = 0;
    for (const action of ['key.create', 'key.revoke', 'team.create']) {
      await fx.deps.audit.append({
        actor: { kind: 'admin', id: 'u1', tenant: 'tA' },
        action,
        target: 'x',
        decision: 'allowed',
        reason: null,
        requestId: 'r',
        metadata: {},
      });
    }
  });
  afterEach(async () => {
    await fx.close();
  });

  it('says the log is valid, then tampered after a record is changed, without naming records or counts', async () => {
    const r = verifyRoute();
    const first = (await call(r, principal('security_auditor'))).body as Body;
    assert.deepEqual(
      { ...first, checked_at: undefined },
      { ok: true, status: 'valid', finding: null, checked_at: undefined },
    );

    // An attacker with the file drops the append-only trigger and edits a record in place.
    const db = new DatabaseSync(fx.deps.auditPath);
    db.exec('DROP TRIGGER audit_records_no_update');
    db.prepare("UPDATE audit_records SET action = 'key.read' WHERE action = 'key.revoke'").run();
    db.close();
    // Within the cache window the earlier answer stands, and nothing is re-read.
    assert.equal(((await call(r, principal('owner'))).body as Body).ok, true);
    assert.equal(runs, 1);
    clock += VERIFY_CACHE_MS;
    const after = (await call(r, principal('owner'))).body as Body;
    assert.equal(runs, 2);
    assert.equal(after.ok, false);
    assert.equal(after.status, 'tampered');
    assert.deepEqual(after.finding, { kind: 'altered' });
    assert.equal(JSON.stringify(after).match(/seq|records|\d+ record/), null);
  });

  it('answers 503 audit.unavailable when the file cannot be read, and is refused to roles without audit.read', async () => {
    const r = route(
      createAuditVerifyRoutes({ ...fx.deps, auditPath: '/nonexistent/audit.db' }),
      'GET',
      '/admin/v1/audit/verify',
    );
    assert.equal(await outcome(r, principal('owner')), 'audit.unavailable');
    assert.equal(await outcome(verifyRoute(), principal('billing_viewer')), 'rbac.forbidden');
    assert.equal(await outcome(verifyRoute(), principal('developer')), 'rbac.forbidden');
  });
});
