import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { sampleApiKeyRecord } from '../../store/contract-fixtures.ts';
import { call, openResourceFixture, outcome, principal, type ResourceFixture, route } from './resource-fixture.ts';
import { createTeamRoutes } from './teams.ts';

describe('admin teams routes', () => {
  let fx: ResourceFixture;
  let routes: ReturnType<typeof createTeamRoutes>;
  const owner = principal('owner');
  const list = () => route(routes, 'GET', '/admin/v1/teams');
  const create = () => route(routes, 'POST', '/admin/v1/teams');
  const get = () => route(routes, 'GET', '/admin/v1/teams/:teamId');
  const patch = () => route(routes, 'PATCH', '/admin/v1/teams/:teamId');
  const del = () => route(routes, 'DELETE', '/admin/v1/teams/:teamId');

  beforeEach(async () => {
    fx = await openResourceFixture();
    routes = createTeamRoutes(fx.deps);
  });
  afterEach(async () => {
    await fx.close();
  });

  async function makeTeam(name: string, who = owner): Promise<string> {
    const r = await call(create(), who, { body: { name } });
    return (r.body as { id: string }).id;
  }

  it('creates, reads, renames and deletes a team, auditing each change', async () => {
    const r = await call(create(), owner, {
      body: { name: '  Data science ', ip_allowlist: ['10.1.2.3/8', '2001:db8::1', '10.0.0.0/8'] },
    });
    assert.equal(r.status, 201);
    const team = r.body as { id: string; name: string; ip_allowlist: string[]; tenant_id: string };
    assert.equal(team.name, 'Data science');
    assert.deepEqual(team.ip_allowlist, ['10.0.0.0/8', '2001:db8::1/128'], 'canonical and deduplicated');
    assert.equal(team.tenant_id, 'tA');
    assert.deepEqual((await call(get(), owner, { params: { teamId: team.id } })).body, team);
    const renamed = await call(patch(), owner, { params: { teamId: team.id }, body: { name: 'ML', ip_allowlist: [] } });
    assert.deepEqual(renamed.body, { ...team, name: 'ML', ip_allowlist: [] });
    assert.equal((await call(del(), owner, { params: { teamId: team.id } })).status, 204);
    assert.equal(await outcome(get(), owner, { params: { teamId: team.id } }), 'resource.not_found');
    assert.deepEqual(
      fx.entries.map((e) => [e.action, e.actor.kind, e.actor.tenant, e.target]),
      [
        ['team.create', 'admin', 'tA', team.id],
        ['team.update', 'admin', 'tA', team.id],
        ['team.delete', 'admin', 'tA', team.id],
      ],
    );
    assert.equal(fx.entries[1]?.metadata?.old_name, 'Data science');
  });

  it('refuses bad input with the path, and stores nothing', async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: 'x', colour: 'red' }, 'colour'],
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'a'.repeat(101) }, 'name'],
      [{ name: 'bad\nname' }, 'name'],
      [{ name: 'x', ip_allowlist: ['10.0.0.0/8', '10.0.0.0/33'] }, 'ip_allowlist[1]'],
      [{ name: 'x', ip_allowlist: 'any' }, 'ip_allowlist'],
      [[], ''],
      [undefined, ''],
    ];
    for (const [body, path] of cases) {
      await assert.rejects(
        call(create(), owner, { body }),
        (e: { code: string; param?: string }) => e.code === 'request.invalid' && (e.param ?? '') === path,
        JSON.stringify(body),
      );
    }
    assert.equal(await outcome(list(), owner, { query: 'page=2' }), 'request.invalid');
    assert.deepEqual(await fx.store.listTeams('tA'), []);
    assert.deepEqual(fx.entries, []);
  });

  it('refuses a duplicate name with 409 and changes nothing', async () => {
    const a = await makeTeam('alpha');
    const b = await makeTeam('beta');
    assert.equal(await outcome(create(), owner, { body: { name: 'alpha' } }), 'resource.conflict');
    assert.equal(
      await outcome(patch(), owner, { params: { teamId: b }, body: { name: 'alpha' } }),
      'resource.conflict',
    );
    assert.deepEqual(
      (await fx.store.listTeams('tA')).map((t) => [t.id, t.name]),
      [
        [a, 'alpha'],
        [b, 'beta'],
      ],
    );
  });

  it('keeps a team that still has active keys', async () => {
    const id = await makeTeam('busy');
    await fx.store.insertApiKey(sampleApiKeyRecord({ tenantId: 'tA', teamId: id }));
    assert.equal(await outcome(del(), owner, { params: { teamId: id } }), 'resource.conflict');
    assert.ok(await fx.store.getTeam('tA', id));
  });

  it('team managers see only their own team; other team ids are 404', async () => {
    const mine = await makeTeam('mine');
    const other = await makeTeam('other');
    const tm = principal('team_manager', { teamId: mine });
    assert.deepEqual(
      ((await call(list(), tm)).body as { data: Array<{ id: string }> }).data.map((t) => t.id),
      [mine],
    );
    assert.equal((await call(get(), tm, { params: { teamId: mine } })).status, 200);
    assert.equal(await outcome(get(), tm, { params: { teamId: other } }), 'resource.not_found');
    assert.equal(await outcome(get(), tm, { params: { teamId: 'team_does_not_exist' } }), 'resource.not_found');
    assert.equal(await outcome(patch(), tm, { params: { teamId: mine }, body: { name: 'x' } }), 'rbac.forbidden');
    assert.equal(await outcome(list(), principal('developer')), 'rbac.forbidden');
  });

  it("another tenant's owner gets 404 on every team route and changes nothing", async () => {
    const id = await makeTeam('alpha');
    const before = await fx.store.getTeam('tA', id);
    const intruder = principal('owner', { tenantId: 'tB', userId: 'u_b' });
    assert.deepEqual((await call(list(), intruder)).body, { data: [] });
    for (const [r, body] of [
      [get(), undefined],
      [patch(), { name: 'pwned' }],
      [del(), undefined],
    ] as const) {
      assert.equal(await outcome(r, intruder, { params: { teamId: id }, body }), 'resource.not_found');
    }
    assert.deepEqual(await fx.store.getTeam('tA', id), before);
    assert.equal(fx.entries.filter((e) => e.actor.tenant === 'tB').length, 0);
  });

  it('refuses when the audit log cannot record: up front, or by undoing the change', async () => {
    const kept = await makeTeam('kept');
    fx.failAudit(false);
    assert.equal(await outcome(create(), owner, { body: { name: 'ghost' } }), 'audit.unavailable');
    assert.equal(
      await outcome(patch(), owner, {
        params: { teamId: kept },
        body: { name: 'renamed', ip_allowlist: ['10.0.0.0/8'] },
      }),
      'audit.unavailable',
    );
    assert.equal(await outcome(del(), owner, { params: { teamId: kept } }), 'audit.unavailable');
    const teams = await fx.store.listTeams('tA');
    assert.deepEqual(
      teams.map((t) => [t.id, t.name, t.ipAllowlist]),
      [[kept, 'kept', []]],
      'every change was undone',
    );
    fx.failAudit(true);
    assert.equal(await outcome(create(), owner, { body: { name: 'ghost' } }), 'audit.unavailable');
    assert.equal((await fx.store.listTeams('tA')).length, 1);
  });
});
