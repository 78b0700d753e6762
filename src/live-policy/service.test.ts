import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import type { AuditEntry } from '../audit/types.ts';
import { ConfigError } from '../config/errors.ts';
import type { GatewayConfig } from '../config/types.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import type { PolicyAuthor, PolicyVersion } from '../policy/contract.ts';
import { createSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { closeComposer } from './compose-off-thread.ts';
import { canonicalJson, diffSha256, readPolicyDocument, splitConfigText } from './document.ts';
import { createPolicyService, invalidPolicy, type PolicyActor, type PolicyService, personOf } from './service.ts';

const ENV = { K: 'sk-test-key-value' };
const FILE = `
server: { port: 8080 }
providers:
  p: { kind: openai, base_url: https://api.openai.com/v1, api_key: "\${K}" }
models:
  m: { targets: [ { provider: p, model: x } ] }
limits:
  rules:
    - { scope: key, requests_per_minute: 600 }
`;
const { bootstrap, document: seed } = splitConfigText(FILE, '/tmp/p.yaml', '/tmp');
const SEED = canonicalJson(seed);
const withRpm = (rpm: number) =>
  canonicalJson({ ...seed, limits: { rules: [{ scope: 'key', requests_per_minute: rpm }] } });

function actor(author: PolicyAuthor): PolicyActor {
  return { author, audit: { kind: author.kind, id: author.id, tenant: null }, requestId: 'req-1' };
}
const alice = actor({ kind: 'admin_user', id: 'usr_alice' });
const aliceToken = actor({ kind: 'admin_token', id: 'usr_alice/tok_1' });
const bob = actor({ kind: 'admin_user', id: 'usr_bob' });
const ops = actor({ kind: 'cli', id: 'root' });

async function refusal(p: Promise<unknown>, code: string): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GatewayError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe('policy service', () => {
  after(() => closeComposer());
  let dir: string;
  let store: Store;
  let audit: AuditEntry[];
  let published: number[];
  let activated: Array<{ version: PolicyVersion; config: GatewayConfig }>;
  let auditDown: boolean;
  const make = (requireApproval: boolean): PolicyService =>
    createPolicyService({
      store,
      bootstrap,
      requireApproval,
      env: ENV,
      audit: async (e) => {
        if (auditDown) throw new Error('disk full');
        audit.push(e);
      },
      publish: async (n) => {
        published.push(n);
      },
      onActivated: (version, config) => {
        activated.push({ version, config });
      },
    });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pcl-policy-svc-'));
    store = createSqliteStore({ path: join(dir, 'p.db'), batchWindowMs: 0 });
    await store.init();
    audit = [];
    published = [];
    activated = [];
    auditDown = false;
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a document: new active version, announced, handed to the running gateway, audited with the diff hash', async () => {
    const svc = make(false);
    const first = await svc.apply({ text: SEED, source: 'seed' }, { comment: 'seed' }, ops);
    assert.equal(first.changed, true);
    assert.equal(first.version.number, 1);
    assert.equal(first.version.state, 'active');
    const second = await svc.apply({ text: withRpm(60), source: 'c.json' }, { ifVersion: 1 }, alice);
    assert.equal(second.version.number, 2);
    assert.equal(second.version.parent, 1);
    assert.deepEqual(second.changes, [
      { path: 'limits.rules[0].requests_per_minute', kind: 'changed', before: 600, after: 60 },
    ]);
    assert.deepEqual(published, [1, 2]);
    assert.equal(activated[1]?.config.limits.rules[0]?.requestsPerMinute, 60);
    assert.equal(activated[1]?.config.providers.get('p')?.apiKey, ENV.K);
    assert.equal((await store.getPolicyVersion(1))?.state, 'superseded');
    const rec = audit.at(-1);
    assert.equal(rec?.action, 'policy.apply');
    assert.deepEqual(rec?.actor, { kind: 'admin_user', id: 'usr_alice', tenant: null });
    assert.equal(rec?.target, 'policy:2');
    assert.equal(rec?.metadata?.diff_sha256, diffSha256(second.changes));
    assert.equal(rec?.metadata?.if_version, 1);
    assert.equal(rec?.decision, 'allowed');
  });

  it('applying the active document again is a no-op: no new version, reported and audited as such', async () => {
    const svc = make(false);
    await svc.apply({ text: SEED, source: 'seed' }, {}, ops);
    // Same data, other key order and whitespace.
    const again = await svc.apply({ text: JSON.stringify(seed, null, 2), source: 'again' }, {}, ops);
    assert.equal(again.changed, false);
    assert.equal(again.version.number, 1);
    assert.deepEqual(await store.listPolicyVersions({}).then((v) => v.length), 1);
    assert.equal(audit.at(-1)?.metadata?.noop, true);
    assert.deepEqual(published, [1]);
  });

  it('refuses a stale --if-version with 409 and changes nothing', async () => {
    const svc = make(false);
    await svc.apply({ text: SEED, source: 'seed' }, {}, ops);
    await svc.apply({ text: withRpm(60), source: 'a' }, {}, ops);
    await refusal(svc.apply({ text: withRpm(30), source: 'b' }, { ifVersion: 1 }, ops), 'policy.version_conflict');
    assert.equal(await store.activePolicyNumber(), 2);
    assert.equal((await store.listPolicyVersions({})).length, 2);
    assert.equal(audit.at(-1)?.decision, 'refused');
    assert.equal(audit.at(-1)?.reason, 'policy.version_conflict');
  });

  it('lets one of two concurrent applies win; the other gets 409 and its version is rejected, not left proposed', async () => {
    const svc = make(false);
    await svc.apply({ text: SEED, source: 'seed' }, {}, ops);
    const results = await Promise.allSettled([
      svc.apply({ text: withRpm(60), source: 'a' }, { ifVersion: 1 }, alice),
      svc.apply({ text: withRpm(30), source: 'b' }, { ifVersion: 1 }, bob),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.equal(((lost[0] as PromiseRejectedResult).reason as GatewayError).code, 'policy.version_conflict');
    const states = (await store.listPolicyVersions({})).map((v) => v.state).sort();
    assert.ok(states.join() === 'active,superseded' || states.join() === 'active,rejected,superseded', states.join());
  });

  it('refuses an invalid document with every path listed, stores nothing, keeps the active version', async () => {
    const svc = make(false);
    await svc.apply({ text: SEED, source: 'seed' }, {}, ops);
    const bad =
      'server: { port: 1 }\nlimits:\n  rules:\n    - { scope: planet, requests_per_minute: 0 }\npayload: { max_tools: -1 }\n';
    const err = await refusal(svc.apply({ text: bad, source: 'bad.yaml' }, {}, alice), 'policy.invalid');
    assert.deepEqual(err.details?.map((d) => d.path).sort(), [
      'limits.rules[0].requests_per_minute',
      'limits.rules[0].scope',
      'payload.max_tools',
      'server',
    ]);
    assert.ok(err.details?.every((d) => typeof d.line === 'number' && typeof d.column === 'number'));
    assert.equal(await store.activePolicyNumber(), 1);
    assert.equal((await store.listPolicyVersions({})).length, 1);
    await refusal(svc.propose(bad, 'bad.yaml', 'x', alice), 'policy.invalid');
    // A credential pasted as a key name is not echoed back.
    const pasted = await refusal(
      svc.apply({ text: 'payload: { sk-live-0123456789abcdefghij: 1 }', source: 'p.yaml' }, {}, alice),
      'policy.invalid',
    );
    assert.equal(JSON.stringify(pasted.details).includes('sk-live-0123456789abcdefghij'), false);
    assert.equal(pasted.message.includes('sk-live-0123456789abcdefghij'), false);
    assert.equal((await store.listPolicyVersions({})).length, 1);
  });

  it('reads documents on the worker thread: the same refusal as the readers on this thread give', async () => {
    const svc = make(false);
    const bad =
      'server: { port: 1 }\nlimits:\n  rules:\n    - { scope: planet, requests_per_minute: 0 }\nproviders:\n  p: { kind: openai, base_url: https://api.openai.com/v1, api_key: "${NOPE}" }\n';
    let here: GatewayError | undefined;
    try {
      readPolicyDocument(bad, 'bad.yaml', bootstrap, ENV);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      here = invalidPolicy(err);
    }
    assert.ok(here !== undefined, 'the document is invalid on this thread');
    for (const op of [
      () => svc.validate(bad, 'bad.yaml'),
      () => svc.propose(bad, 'bad.yaml', 'x', alice),
      () => svc.apply({ text: bad, source: 'bad.yaml' }, {}, alice),
    ]) {
      const there = await refusal(op(), 'policy.invalid');
      assert.equal(there.message, here.message);
      assert.deepEqual(there.details, here.details);
    }
    assert.equal((await store.listPolicyVersions({})).length, 0);
  });

  it('keeps serving the event loop while a 1,000-rule document is validated and applied', async () => {
    const svc = make(false);
    const rules = Array.from({ length: 1000 }, (_, i) => ({
      scope: 'key',
      model: `m${i}`,
      requests_per_minute: 60 + i,
    }));
    const big = canonicalJson({ ...seed, limits: { rules } });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      // Read on this thread, the whole read would be one synchronous stretch in which no timer runs.
      const v = await svc.validate(big, 'big.json');
      assert.equal(v.valid.config.limits.rules.length, 1000);
      const duringValidate = ticks;
      const applied = await svc.apply({ text: big, source: 'big.json' }, {}, alice);
      assert.equal(applied.version.number, 1);
      assert.ok(duringValidate > 0, 'no timer ran while the document was validated');
      assert.ok(ticks > duringValidate, 'no timer ran while the document was applied');
    } finally {
      clearInterval(timer);
    }
  });

  it('two-person rule: apply needs an approved proposal, and nobody approves their own (token or session)', async () => {
    const svc = make(true);
    await refusal(svc.apply({ text: SEED, source: 'seed' }, {}, alice), 'policy.approval_required');
    const p = await svc.propose(SEED, 'seed', 'first policy', alice);
    assert.equal(p.version.state, 'proposed');
    assert.equal(audit.at(-1)?.action, 'policy.propose');
    assert.equal(audit.at(-1)?.metadata?.diff_sha256, p.diffSha256);
    await refusal(svc.apply({ number: 1 }, {}, bob), 'policy.approval_required');
    await refusal(svc.approve(1, alice), 'policy.self_approval');
    await refusal(svc.approve(1, aliceToken), 'policy.self_approval');
    assert.equal(audit.at(-1)?.decision, 'refused');
    assert.equal(audit.at(-1)?.reason, 'policy.self_approval');
    const approved = await svc.approve(1, bob);
    assert.deepEqual(approved.decidedBy, bob.author);
    await refusal(svc.approve(1, ops), 'policy.wrong_state');
    // The author may apply once another has approved.
    const applied = await svc.apply({ number: 1 }, {}, alice);
    assert.equal(applied.version.state, 'active');
    assert.equal(personOf(aliceToken.author), personOf(alice.author));
  });

  it('rejects a proposal with a reason; a rejected version cannot be approved or applied', async () => {
    const svc = make(true);
    await svc.propose(SEED, 'seed', '', alice);
    await refusal(svc.reject(1, '  ', bob), 'request.invalid');
    const r = await svc.reject(1, 'too loose', bob);
    assert.equal(r.state, 'rejected');
    assert.equal(r.decisionReason, 'too loose');
    await refusal(svc.approve(1, bob), 'policy.wrong_state');
    await refusal(svc.apply({ number: 1 }, {}, bob), 'policy.wrong_state');
    await refusal(svc.show(9), 'policy.not_found');
    await refusal(svc.show(), 'policy.not_found');
  });

  it('refuses to apply a proposal made on top of a version that is no longer active', async () => {
    const svc = make(false);
    await svc.apply({ text: SEED, source: 'seed' }, {}, ops);
    await svc.propose(withRpm(60), 'a', 'made on 1', alice); // 2, parent 1
    await svc.apply({ text: withRpm(30), source: 'b' }, {}, ops); // 3 active
    await refusal(svc.apply({ number: 2 }, {}, bob), 'policy.version_conflict');
    assert.equal(await store.activePolicyNumber(), 3);
  });

  it('rolls back to the previous (or a named) version as a new version with the same hash', async () => {
    const svc = make(true);
    await refusal(svc.rollback({}, ops), 'policy.not_found');
    for (const [text, n] of [
      [SEED, 1],
      [withRpm(60), 2],
      [withRpm(30), 3],
    ] as const) {
      await svc.propose(text, 'doc', '', alice);
      await svc.approve(n, bob);
      await svc.apply({ number: n }, {}, alice);
    }
    const back = await svc.rollback({}, ops);
    assert.equal(back.version.number, 4);
    assert.equal(back.version.sha256, (await store.getPolicyVersion(2))?.sha256);
    assert.equal(back.version.parent, 3);
    assert.equal(back.version.comment, 'rollback to version 2');
    assert.equal(audit.at(-1)?.action, 'policy.rollback');
    assert.equal(audit.at(-1)?.metadata?.to, 2);
    const toFirst = await svc.rollback({ to: 1, comment: 'incident 42' }, ops);
    assert.equal(toFirst.version.sha256, (await store.getPolicyVersion(1))?.sha256);
    assert.equal(toFirst.version.document, (await store.getPolicyVersion(1))?.document);
    // Rolling back to what is active is a no-op; to a version never active is refused.
    assert.equal((await svc.rollback({ to: 1 }, ops)).changed, false);
    await svc.propose(withRpm(7), 'doc', '', alice);
    await refusal(svc.rollback({ to: 6 }, ops), 'policy.wrong_state');
    // `apply N` of a superseded version is the same rollback.
    const applied = await svc.apply({ number: 3 }, {}, ops);
    assert.equal(applied.version.sha256, (await store.getPolicyVersion(3))?.sha256);
    assert.equal(applied.version.number, 7);
  });

  it('changes nothing when the audit log cannot take the record', async () => {
    const svc = make(false);
    await svc.apply({ text: SEED, source: 'seed' }, {}, ops);
    auditDown = true;
    await refusal(svc.apply({ text: withRpm(5), source: 'x' }, {}, alice), 'audit.unavailable');
    assert.equal(await store.activePolicyNumber(), 1);
    assert.equal((await store.getPolicyVersion(2))?.state, 'rejected');
    await refusal(svc.propose(withRpm(5), 'x', '', alice), 'audit.unavailable');
    assert.equal((await store.getPolicyVersion(3))?.state, 'rejected');
  });

  it('validates and diffs without storing anything', async () => {
    const svc = make(false);
    await svc.apply({ text: SEED, source: 'seed' }, {}, ops);
    const v = await svc.validate(withRpm(1), 'c');
    assert.equal(v.active, 1);
    assert.equal(v.changes.length, 1);
    await svc.apply({ text: withRpm(1), source: 'c' }, {}, ops);
    assert.deepEqual(await svc.diff(1, 'active'), v.changes);
    assert.deepEqual(await svc.diff(2, 1), [
      { path: 'limits.rules[0].requests_per_minute', kind: 'changed', before: 1, after: 600 },
    ]);
    await refusal(svc.diff(1, 5), 'policy.not_found');
    assert.deepEqual(
      (await svc.history({ limit: 1 })).map((x) => x.number),
      [2],
    );
  });
});
