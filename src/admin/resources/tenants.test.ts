import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { call, openResourceFixture, outcome, principal, type ResourceFixture, route } from './resource-fixture.ts';
import { createTenantRoutes } from './tenants.ts';

describe('admin tenant routes', () => {
  let fx: ResourceFixture;
  let routes: ReturnType<typeof createTenantRoutes>;
  const get = () => route(routes, 'GET', '/admin/v1/tenants/:tenantId');
  const patch = () => route(routes, 'PATCH', '/admin/v1/tenants/:tenantId');
  const owner = principal('owner');
  const created = '2024-05-01T10:00:00.000Z';

  beforeEach(async () => {
    fx = await openResourceFixture();
    routes = createTenantRoutes(fx.deps);
    await fx.store.insertTenant({ id: 'tA', name: 'Acme', status: 'active', createdAt: created });
    await fx.store.insertTenant({ id: 'tB', name: 'Beta', status: 'active', createdAt: created });
  });
  afterEach(async () => {
    await fx.close();
  });

  it("reads and renames the caller's own tenant, auditing the change", async () => {
    assert.deepEqual((await call(get(), owner, { params: { tenantId: 'tA' } })).body, {
      id: 'tA',
      name: 'Acme',
      status: 'active',
      created_at: created,
    });
    assert.equal((await call(get(), principal('security_auditor'), { params: { tenantId: 'tA' } })).status, 200);
    const r = await call(patch(), owner, { params: { tenantId: 'tA' }, body: { name: 'Acme Corp' } });
    assert.equal((r.body as { name: string }).name, 'Acme Corp');
    assert.deepEqual(
      fx.entries.map((e) => [e.action, e.target, e.metadata?.old_name, e.metadata?.name]),
      [['tenant.update', 'tA', 'Acme', 'Acme Corp']],
    );
  });

  it("another tenant's id is 404 for reading and renaming, and nothing changes", async () => {
    assert.equal(await outcome(get(), owner, { params: { tenantId: 'tB' } }), 'resource.not_found');
    assert.equal(await outcome(get(), owner, { params: { tenantId: 'nope' } }), 'resource.not_found');
    assert.equal(
      await outcome(patch(), owner, { params: { tenantId: 'tB' }, body: { name: 'pwned' } }),
      'resource.not_found',
    );
    assert.equal((await fx.store.getTenant('tB'))?.name, 'Beta');
  });

  it('only owners rename; bad input is 400 with the path', async () => {
    assert.equal(
      await outcome(patch(), principal('admin'), { params: { tenantId: 'tA' }, body: { name: 'x' } }),
      'rbac.forbidden',
    );
    assert.equal(await outcome(get(), principal('developer'), { params: { tenantId: 'tA' } }), 'rbac.forbidden');
    await assert.rejects(
      call(patch(), owner, { params: { tenantId: 'tA' }, body: { status: 'suspended' } }),
      (e: { code: string; param?: string }) => e.code === 'request.invalid' && e.param === 'status',
    );
    await assert.rejects(
      call(patch(), owner, { params: { tenantId: 'tA' }, body: { name: '' } }),
      (e: { code: string; param?: string }) => e.code === 'request.invalid' && e.param === 'name',
    );
    assert.equal((await fx.store.getTenant('tA'))?.status, 'active');
    assert.equal((await fx.store.getTenant('tA'))?.name, 'Acme');
  });

  it('a rename the audit log cannot take is undone', async () => {
    fx.failAudit(false);
    assert.equal(
      await outcome(patch(), owner, { params: { tenantId: 'tA' }, body: { name: 'Unrecorded' } }),
      'audit.unavailable',
    );
    assert.equal((await fx.store.getTenant('tA'))?.name, 'Acme');
  });
});
