/** The PolicyStore part of the Store contract (src/store/contract.ts runs it for every backend). */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { PolicyAuthor, PolicyVersion } from '../policy/contract.ts';
import type { Store } from './store.ts';

const alice: PolicyAuthor = { kind: 'admin_user', id: 'alice' };
const bob: PolicyAuthor = { kind: 'admin_user', id: 'bob' };

function draft(doc: object, overrides: Partial<Omit<PolicyVersion, 'number' | 'state'>> = {}) {
  const document = JSON.stringify(doc);
  return {
    parent: undefined,
    sha256: createHash('sha256').update(document).digest('hex'),
    document,
    author: alice,
    createdAt: '2026-01-02T03:04:05.000Z',
    comment: 'a comment',
    ...overrides,
  };
}

export function runPolicyStoreContract(getStore: () => Store): void {
  describe('policy versions', () => {
    it('numbers versions 1, 2, 3… and round-trips every field, a `${…}` reference and unicode included', async () => {
      const store = getStore();
      assert.equal(await store.activePolicyVersion(), undefined);
      assert.equal(await store.activePolicyNumber(), undefined);
      const doc = { providers: { p: { api_key: '${OPENAI_KEY}' } }, comment: 'naïve — 日本' };
      const one = await store.insertPolicyVersion(draft(doc, { author: { kind: 'cli', id: 'root' } }));
      assert.deepEqual(one, { ...draft(doc, { author: { kind: 'cli', id: 'root' } }), number: 1, state: 'proposed' });
      const two = await store.insertPolicyVersion(draft({ b: 1 }, { parent: 1, comment: '' }));
      assert.equal(two.number, 2);
      assert.equal(two.parent, 1);
      assert.deepEqual(await store.getPolicyVersion(1), one);
      assert.deepEqual(await store.getPolicyVersion(2), two);
      assert.equal(await store.getPolicyVersion(3), undefined);
      assert.equal(await store.getPolicyVersion(0), undefined);
    });

    it('hands out distinct numbers to concurrent inserts', async () => {
      const store = getStore();
      const made = await Promise.all(Array.from({ length: 8 }, (_v, i) => store.insertPolicyVersion(draft({ i }))));
      assert.deepEqual(
        made.map((v) => v.number).sort((a, b) => a - b),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
    });

    it('refuses malformed versions before writing anything', async () => {
      const store = getStore();
      await assert.rejects(store.insertPolicyVersion(draft({}, { sha256: 'abc' })), TypeError);
      await assert.rejects(store.insertPolicyVersion(draft({}, { createdAt: 'yesterday' })), TypeError);
      await assert.rejects(
        store.insertPolicyVersion(draft({}, { author: { kind: 'root' as PolicyAuthor['kind'], id: 'x' } })),
        TypeError,
      );
      await assert.rejects(store.insertPolicyVersion(draft({}, { parent: 0 })), TypeError);
      await assert.rejects(store.insertPolicyVersion(draft({}, { decidedBy: bob })), TypeError);
      assert.deepEqual(await store.listPolicyVersions({}), []);
    });

    it('lists newest first with limit and before', async () => {
      const store = getStore();
      for (let i = 0; i < 5; i++) await store.insertPolicyVersion(draft({ i }));
      assert.deepEqual(
        (await store.listPolicyVersions({ limit: 2 })).map((v) => v.number),
        [5, 4],
      );
      assert.deepEqual(
        (await store.listPolicyVersions({ before: 4, limit: 10 })).map((v) => v.number),
        [3, 2, 1],
      );
      await assert.rejects(store.listPolicyVersions({ limit: 0 }), RangeError);
    });

    it('activates atomically: supersedes the previous one, guarded by the expected active number', async () => {
      const store = getStore();
      await store.insertPolicyVersion(draft({ a: 1 }));
      await store.insertPolicyVersion(draft({ a: 2 }, { parent: 1 }));
      await store.insertPolicyVersion(draft({ a: 3 }, { parent: 1 }));
      // None active yet: only `expectedActive: undefined` succeeds.
      assert.equal(await store.activatePolicyVersion(1, 2, '2026-01-02T04:00:00.000Z'), false);
      assert.equal(await store.activatePolicyVersion(1, undefined, '2026-01-02T04:00:00.000Z'), true);
      assert.equal(await store.activePolicyNumber(), 1);
      assert.equal((await store.activePolicyVersion())?.activatedAt, '2026-01-02T04:00:00.000Z');
      // A stale expectation changes nothing.
      assert.equal(await store.activatePolicyVersion(2, undefined, '2026-01-02T05:00:00.000Z'), false);
      assert.equal(await store.activatePolicyVersion(2, 1, '2026-01-02T05:00:00.000Z'), true);
      assert.equal((await store.getPolicyVersion(1))?.state, 'superseded');
      assert.equal((await store.getPolicyVersion(2))?.state, 'active');
      // Version 3 was made from 1; applying it on top of 2 with the old expectation fails.
      assert.equal(await store.activatePolicyVersion(3, 1, '2026-01-02T06:00:00.000Z'), false);
      // Only a proposed version can become active (an old one comes back as a new version).
      assert.equal(await store.activatePolicyVersion(1, 2, '2026-01-02T06:00:00.000Z'), false);
      assert.equal(await store.activatePolicyVersion(9, 2, '2026-01-02T06:00:00.000Z'), false);
      assert.equal(await store.activePolicyNumber(), 2);
      assert.equal((await store.getPolicyVersion(3))?.state, 'proposed');
    });

    it('lets exactly one of two racing activations with the same expectation win', async () => {
      const store = getStore();
      await store.insertPolicyVersion(draft({ base: true }));
      assert.equal(await store.activatePolicyVersion(1, undefined, '2026-01-02T04:00:00.000Z'), true);
      await store.insertPolicyVersion(draft({ x: 1 }, { parent: 1 }));
      await store.insertPolicyVersion(draft({ x: 2 }, { parent: 1 }));
      const results = await Promise.all([
        store.activatePolicyVersion(2, 1, '2026-01-02T05:00:00.000Z'),
        store.activatePolicyVersion(3, 1, '2026-01-02T05:00:00.000Z'),
      ]);
      assert.deepEqual(
        results.filter((r) => r),
        [true],
      );
      const active = await store.activePolicyNumber();
      assert.ok(active === 2 || active === 3);
      const states = (await store.listPolicyVersions({})).map((v) => v.state).sort();
      assert.deepEqual(states, ['active', 'proposed', 'superseded']);
    });

    it('records approvals and rejections on proposed versions only', async () => {
      const store = getStore();
      await store.insertPolicyVersion(draft({ a: 1 }));
      await store.insertPolicyVersion(draft({ a: 2 }));
      assert.equal(await store.approvePolicyVersion(1, bob, '2026-01-02T04:00:00.000Z'), true);
      const approved = await store.getPolicyVersion(1);
      assert.equal(approved?.state, 'proposed');
      assert.deepEqual(approved?.decidedBy, bob);
      assert.equal(approved?.decidedAt, '2026-01-02T04:00:00.000Z');
      assert.equal(approved?.decisionReason, undefined);

      assert.equal(await store.rejectPolicyVersion(2, bob, '2026-01-02T04:30:00.000Z', 'too broad'), true);
      const rejected = await store.getPolicyVersion(2);
      assert.equal(rejected?.state, 'rejected');
      assert.equal(rejected?.decisionReason, 'too broad');
      // A rejected version is final: no approval, no second rejection, no activation.
      assert.equal(await store.approvePolicyVersion(2, alice, '2026-01-02T05:00:00.000Z'), false);
      assert.equal(await store.rejectPolicyVersion(2, alice, '2026-01-02T05:00:00.000Z', 'again'), false);
      assert.equal(await store.activatePolicyVersion(2, undefined, '2026-01-02T05:00:00.000Z'), false);
      assert.equal(await store.approvePolicyVersion(7, alice, '2026-01-02T05:00:00.000Z'), false);

      assert.equal(await store.activatePolicyVersion(1, undefined, '2026-01-02T06:00:00.000Z'), true);
      // An active version can no longer be rejected.
      assert.equal(await store.rejectPolicyVersion(1, alice, '2026-01-02T07:00:00.000Z', 'late'), false);
      assert.equal((await store.getPolicyVersion(1))?.state, 'active');
    });
  });

  describe('policy heartbeats', () => {
    const beat = (over: Partial<Parameters<Store['upsertPolicyHeartbeat']>[0]> = {}) => ({
      instanceId: 'i-1',
      host: 'gw-a',
      pid: 4242,
      startedAt: '2026-01-02T03:00:00.000Z',
      seenAt: '2026-01-02T03:00:05.000Z',
      activeVersion: undefined,
      ...over,
    });

    it('keeps one row per instance, last write wins, and lists those seen since a time', async () => {
      const store = getStore();
      await store.upsertPolicyHeartbeat(beat());
      await store.upsertPolicyHeartbeat(beat({ seenAt: '2026-01-02T03:00:10.000Z', activeVersion: 3 }));
      await store.upsertPolicyHeartbeat(
        beat({
          instanceId: 'i-2',
          host: 'gw-b',
          seenAt: '2026-01-02T02:00:00.000Z',
          activeVersion: 2,
          failedVersion: 3,
          failure: 'environment variable OPENAI_KEY is not set',
        }),
      );
      assert.deepEqual(await store.listPolicyHeartbeats('2026-01-02T03:00:00.000Z'), [
        beat({ seenAt: '2026-01-02T03:00:10.000Z', activeVersion: 3 }),
      ]);
      const all = await store.listPolicyHeartbeats('2026-01-01T00:00:00.000Z');
      assert.deepEqual(
        all.map((h) => h.instanceId),
        ['i-1', 'i-2'],
      );
      assert.equal(all[1]?.failedVersion, 3);
      assert.equal(all[1]?.failure, 'environment variable OPENAI_KEY is not set');
      assert.equal(all[0]?.failedVersion, undefined);
    });

    it('refuses malformed heartbeats', async () => {
      const store = getStore();
      await assert.rejects(store.upsertPolicyHeartbeat(beat({ seenAt: 'now' })), TypeError);
      await assert.rejects(store.upsertPolicyHeartbeat(beat({ instanceId: '' })), TypeError);
      await assert.rejects(store.listPolicyHeartbeats('soon'), TypeError);
    });
  });
}
