import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isGatewayError } from '../errors/gateway-error.ts';
import type { SecurityEvent } from '../events/security-events.ts';
import { createSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { createApiService } from './service.ts';

const DEF = {
  model: 'gpt',
  messages: [{ role: 'user', content: 'Say: {{text}}' }],
  input_schema: { type: 'object', required: ['text'], properties: { text: { type: 'string', maxLength: 100 } } },
};
let dir: string;
let store: Store;
const audit: Array<{ action: string; target: string }> = [];
const events: SecurityEvent[] = [];
let auditDown = false;
const owner = { id: 'u_owner', teamId: 'team_owner' };
const consumer = { id: 'u_consumer', teamId: 'team_consumer' };

const service = () =>
  createApiService({
    store,
    knownModel: (m) => m === 'gpt',
    events: { emit: (e) => events.push(e) },
    record: async (action, target) => {
      if (auditDown) throw new Error('audit down');
      audit.push({ action, target });
    },
  });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isGatewayError(err)) return err.code;
    throw err;
  }
  return 'ok';
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-apis-'));
  store = createSqliteStore({ path: join(dir, 's.db'), batchWindowMs: 0 });
  await store.init();
  for (const id of ['team_owner', 'team_consumer'])
    await store.insertTeam({ id, tenantId: 't1', name: id, ipAllowlist: [], createdAt: new Date().toISOString() });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('versions: minors must stay compatible, majors are not skipped, published ones are immutable', async () => {
  const s = service();
  const api = await s.createApi({
    tenantId: 't1',
    name: 'say',
    ownerTeamId: 'team_owner',
    visibility: 'tenant',
    description: '',
    actor: owner,
  });
  assert.equal(await code(s.createApi({ ...api, actor: owner })), 'resource.conflict');
  const v10 = await s.createVersion(api, DEF, undefined, owner);
  assert.equal(`${v10.major}.${v10.minor}`, '1.0');
  assert.equal(await code(s.transition(api, '1.0', 'deprecate', {}, owner)), 'api.invalid_transition');
  await s.transition(api, '1.0', 'publish', {}, owner);
  assert.equal(await code(s.updateDraft(api, '1.0', DEF, owner)), 'api.invalid_transition');
  const narrower = {
    ...DEF,
    input_schema: { ...DEF.input_schema, properties: { text: { type: 'string', maxLength: 10 } } },
  };
  assert.equal(await code(s.createVersion(api, narrower, undefined, owner)), 'api.breaking_change');
  assert.equal(await code(s.createVersion(api, narrower, 3, owner)), 'request.invalid', 'no skipping to 3');
  const v11 = await s.createVersion(api, { ...DEF, parameters: { temperature: 0 } }, undefined, owner);
  assert.equal(`${v11.major}.${v11.minor}`, '1.1', 'a compatible change is the next minor');
  // A draft may not be edited into a breaking change either.
  assert.equal(await code(s.updateDraft(api, '1.1', narrower, owner)), 'api.breaking_change');
  const v20 = await s.createVersion(api, narrower, 2, owner);
  assert.equal(`${v20.major}.${v20.minor}`, '2.0');
  assert.equal(await code(s.transition(api, '1.0', 'deprecate', { successor: 'v9' }, owner)), 'request.invalid');
  assert.equal(
    await code(s.transition(api, '1.0', 'deprecate', { sunsetAt: '2000-01-01T00:00:00.000Z' }, owner)),
    'request.invalid',
    'a sunset in the past',
  );
  const dep = await s.transition(api, '1.0', 'deprecate', { successor: 'v2' }, owner);
  assert.equal(dep.successor, 'v2');
  assert.deepEqual(
    events.filter((e) => e.type.startsWith('api.version_')).map((e) => e.type),
    [
      'api.version_created',
      'api.version_published',
      'api.version_created',
      'api.version_created',
      'api.version_deprecated',
    ],
  );
});

test('subscriptions: separation of duties, one open request per team, one-way steps, audited before the change', async () => {
  const s = service();
  const api = (await store.findPromptApiByName('t1', 'say'))!;
  const plan = { consumerTeamId: 'team_consumer', reason: 'r', planRpm: 5, planMonthlyQuota: 50 };
  assert.equal(
    await code(s.requestSubscription(api, { ...plan, consumerTeamId: 'team_owner' }, owner)),
    'request.invalid',
  );
  assert.equal(
    await code(s.requestSubscription(api, { ...plan, consumerTeamId: 'nope' }, consumer)),
    'request.invalid',
  );
  const sub = await s.requestSubscription(api, plan, consumer);
  assert.equal(await code(s.requestSubscription(api, plan, consumer)), 'resource.conflict');
  assert.equal(await code(s.decideSubscription(api, sub, 'approve', null, consumer)), 'api.self_approval');
  assert.equal(
    await code(s.decideSubscription(api, sub, 'approve', null, { id: 'u_consumer', teamId: null })),
    'api.self_approval',
    'the requester, whatever team it acts from',
  );
  assert.equal(await code(s.decideSubscription(api, sub, 'suspend', null, owner)), 'api.invalid_transition');
  auditDown = true;
  try {
    await assert.rejects(s.decideSubscription(api, sub, 'approve', null, owner), /audit down/);
  } finally {
    auditDown = false;
  }
  assert.equal((await store.getApiSubscription('t1', sub.id))?.state, 'pending', 'not audited, not made');
  const approved = await s.decideSubscription(api, sub, 'approve', 'ok', owner);
  assert.equal(approved.state, 'approved');
  const suspended = await s.decideSubscription(api, approved, 'suspend', 'incident', owner);
  assert.equal(await code(s.decideSubscription(api, suspended, 'resume', null, consumer)), 'api.self_approval');
  const revoked = await s.decideSubscription(api, suspended, 'revoke', null, owner);
  assert.equal(revoked.state, 'revoked');
  assert.equal(await code(s.decideSubscription(api, revoked, 'resume', null, owner)), 'api.invalid_transition');
  assert.deepEqual(
    audit.filter((a) => a.target === sub.id).map((a) => a.action),
    ['api.subscription_request', 'api.subscription_approve', 'api.subscription_suspend', 'api.subscription_revoke'],
  );
  const approvedEvent = events.find((e) => e.type === 'api.subscription_approved');
  assert.equal(approvedEvent?.detail?.owner_team, 'team_owner');
  assert.equal(approvedEvent?.detail?.consumer_team, 'team_consumer');
});

test('paths: 24 URL-safe characters, a bounded grace, only for an existing major', async () => {
  const s = service();
  const api = (await store.findPromptApiByName('t1', 'say'))!;
  const p = await s.rotatePath(api, 2, 60, owner);
  assert.match(p.path, /^[A-Za-z0-9_-]{24}$/);
  assert.equal(await code(s.rotatePath(api, 7, 60, owner)), 'request.invalid');
  assert.equal(await code(s.rotatePath(api, 2, 31 * 86_400, owner)), 'request.invalid');
  assert.ok(!JSON.stringify(events).includes(p.path), 'the path itself is in no event');
});
