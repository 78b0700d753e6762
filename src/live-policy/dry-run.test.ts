import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseConfig } from '../config/load.ts';
import type { DecisionInputs } from '../policy/decision-inputs.ts';
import { sampleApiKeyRecord, sampleRequestRecord } from '../store/contract-fixtures.ts';
import { createSqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
import { dryRun } from './dry-run.ts';
import { explainRequest } from './explain.ts';

const BASE = `providers:
  openai: { kind: openai, base_url: "https://api.openai.com/v1", api_key: "\${K}" }
  mistral: { kind: mistral, base_url: "https://api.mistral.ai/v1", api_key: "\${K}" }
`;
const GPT_ON_OPENAI = 'models:\n  gpt: { targets: [ { provider: openai, model: gpt-4o-mini } ] }\n';
const GPT_ON_MISTRAL = 'models:\n  gpt: { targets: [ { provider: mistral, model: mistral-small-latest } ] }\n';
const cfg = (text: string) => parseConfig(`${BASE}${text}`, '<test>', { K: 'x' });

const inputs: DecisionInputs = {
  callerKind: 'api_key',
  items: 1,
  tools: 0,
  images: 0,
  largestImageBytes: 0,
  promptChars: 8,
  promptTokens: 7,
  n: 1,
  cacheHint: 'none',
  network: 'loopback',
};
const t0 = Date.parse('2026-03-01T10:00:00.000Z');
const keyA = sampleApiKeyRecord({ id: 'key-a', teamId: 'red', allowedModels: ['*'] });
const keyB = sampleApiKeyRecord({ id: 'key-b', teamId: 'blue', allowedModels: ['*'] });

let dir: string;
let store: Store;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-dry-run-'));
  store = createSqliteStore({ path: join(dir, 'db.sqlite'), batchWindowMs: 0 });
  await store.init();
  await store.insertApiKey(keyA);
  await store.insertApiKey(keyB);
  // key-a: 6 requests in 6 s; key-b: 2. All allowed when recorded.
  const rows = [
    ...[0, 1, 2, 3, 4, 5].map((s) => ['key-a', 'red', s] as const),
    ...[0.5, 1.5].map((s) => ['key-b', 'blue', s] as const),
  ];
  for (const [keyId, teamId, s] of rows)
    await store.insertRequestRecord(
      sampleRequestRecord({
        time: new Date(t0 + s * 1000).toISOString(),
        tenantId: 'tenant-a',
        keyId,
        teamId,
        model: 'gpt',
        provider: 'openai',
        targetModel: 'gpt-4o-mini',
        latencyMs: 20,
        promptTokens: 7,
        completionTokens: 3,
        totalTokens: 10,
        decisionInputs: inputs,
      }),
    );
  // An old record without inputs, and one outside the window.
  await store.insertRequestRecord(sampleRequestRecord({ time: new Date(t0 + 7000).toISOString(), keyId: 'key-a' }));
  await store.insertRequestRecord(
    sampleRequestRecord({ time: new Date(t0 - 3_600_000).toISOString(), keyId: 'key-a', decisionInputs: inputs }),
  );
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const window = { since: new Date(t0 - 1000).toISOString(), until: new Date(t0 + 60_000).toISOString() };

test('a tighter per-key rate is reported per rule, with the keys and teams it hits', async () => {
  const report = await dryRun({
    store,
    active: cfg(GPT_ON_OPENAI),
    candidate: cfg(`${GPT_ON_OPENAI}limits:\n  rules:\n    - { scope: key, requests_per_minute: 6, burst: 2 }\n`),
    ...window,
  });
  assert.deepEqual(report.sample.skipped, { no_inputs: 1 });
  assert.equal(report.sample.records, 9);
  assert.equal(report.sample.truncated, false);
  assert.deepEqual([report.active.allowed, report.active.throttled], [8, 0]);
  // key-a: 2 pass at once, then one per 10 s: 4 of its 6 throttled; key-b's 2 fit its burst.
  assert.deepEqual(
    [report.candidate.allowed, report.candidate.throttled, report.candidate.byCode],
    [4, 4, { 'limit.requests': 4 }],
  );
  assert.equal(report.changed, 4);
  assert.deepEqual(report.fidelity, { matching: 8, compared: 8 });
  assert.deepEqual(
    report.rules.map((r) => [r.rule, r.stage, r.throttled, r.refused]),
    [['key-rpm', 'limit', 4, 0]],
  );
  assert.deepEqual(report.keys, [{ id: 'key-a', changed: 4 }]);
  assert.deepEqual(report.teams, [{ id: 'red', changed: 4 }]);
});

test('a moved route counts reroutes; a price counts repricing; a bounded sample says it was cut', async () => {
  const moved = await dryRun({ store, active: cfg(GPT_ON_OPENAI), candidate: cfg(GPT_ON_MISTRAL), ...window });
  assert.deepEqual(
    moved.rules.map((r) => [r.rule, r.rerouted]),
    [['route:gpt', 8]],
  );
  const priced = await dryRun({
    store,
    active: cfg(GPT_ON_OPENAI),
    candidate: cfg(
      `${GPT_ON_OPENAI}pricing:\n  version: t1\n  models:\n    - { provider: openai, model: gpt-4o-mini, input_per_1m: 1000, output_per_1m: 1000 }\n`,
    ),
    ...window,
    maxRecords: 3,
  });
  assert.deepEqual([priced.sample.records, priced.sample.truncated], [3, true]);
  assert.equal(priced.sample.newest, new Date(t0 + 7000).toISOString());
  const rule = priced.rules[0]!;
  assert.equal(rule.rule, 'price:openai/gpt-4o-mini');
  assert.equal(rule.repriced, 2);
  assert.ok(rule.costDeltaMicros > 0);
});

test('explain names the stage, the rule and every limit that applies', async () => {
  const config = cfg(
    `${GPT_ON_OPENAI}limits:\n  rules:\n    - { scope: team, model: gpt, requests_per_minute: 60 }\n    - { scope: key, tokens_per_minute: 100 }\npayload:\n  max_output_tokens: 4000\n`,
  );
  const body = (o: object) =>
    Buffer.from(JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }], ...o }));
  const ok = await explainRequest({
    config,
    policy: 'active',
    key: keyA,
    body: body({ max_tokens: 50 }),
    surface: 'openai',
    operation: 'chat',
  });
  assert.equal(ok.verdict, 'allowed');
  assert.deepEqual(
    ok.steps.map((s) => `${s.stage}:${s.result}`),
    ['validate:passed', 'authorize:passed', 'limit:passed', 'route:passed'],
  );
  assert.deepEqual(
    ok.applies.limits.map((l) => l.policy),
    ['team-gpt-rpm', 'key-tpm'],
  );
  assert.equal(ok.target, 'openai/gpt-4o-mini');
  const big = await explainRequest({
    config,
    policy: 'candidate',
    key: keyA,
    body: body({ max_tokens: 500 }),
    surface: 'openai',
    operation: 'chat',
  });
  assert.deepEqual([big.verdict, big.stage, big.rule, big.code], ['throttled', 'limit', 'key-tpm', 'limit.tokens']);
  const capped = await explainRequest({
    config,
    policy: 'active',
    key: keyA,
    body: body({ max_tokens: 5000 }),
    surface: 'openai',
    operation: 'chat',
  });
  assert.deepEqual(
    [capped.stage, capped.rule, capped.code],
    ['validate', 'payload:max_output_tokens', 'request.output_limit'],
  );
  const garbage = await explainRequest({
    config,
    policy: 'active',
    key: keyA,
    body: Buffer.from('{"model":'),
    surface: 'openai',
    operation: 'chat',
  });
  assert.deepEqual([garbage.verdict, garbage.stage, garbage.code], ['refused', 'validate', 'request.invalid_json']);
});

test('a looser candidate releases what the active policy throttled', async () => {
  const report = await dryRun({
    store,
    active: cfg(`${GPT_ON_OPENAI}limits:\n  rules:\n    - { scope: team, requests_per_minute: 6, burst: 1 }\n`),
    candidate: cfg(GPT_ON_OPENAI),
    ...window,
  });
  // red (key-a): 1 of 6 passes, then one per 10 s; blue (key-b): 1 of 2.
  assert.deepEqual([report.active.throttled, report.candidate.throttled], [6, 0]);
  assert.equal(report.sample.assumedUsage, 0, 'the released requests have recorded usage');
  assert.deepEqual(
    report.rules.map((r) => [r.rule, r.released, r.throttled]),
    [['team-rpm', 6, 0]],
  );
  assert.deepEqual(
    report.teams.map((t) => [t.id, t.changed]),
    [
      ['red', 5],
      ['blue', 1],
    ],
  );
  // The recorded traffic was all allowed: the active replay disagrees for the 6 it throttles.
  assert.deepEqual(report.fidelity, { matching: 2, compared: 8 });
});

test('fidelity compares only what a replay decides; a tenant filter keeps to that tenant', async () => {
  const at = (s: number) => new Date(t0 + 10_000 + s * 1000).toISOString();
  const base = {
    tenantId: 'tenant-f',
    keyId: 'key-a',
    model: 'gpt',
    provider: 'openai',
    targetModel: 'gpt-4o-mini',
    decisionInputs: inputs,
  };
  for (const [s, status, errorCode] of [
    [0, 504, 'upstream.timeout'],
    [1, 400, 'guard.pii'],
    [2, 429, 'limit.requests'],
  ] as const)
    await store.insertRequestRecord(sampleRequestRecord({ ...base, time: at(s), status, errorCode }));
  const report = await dryRun({
    store,
    active: cfg(GPT_ON_OPENAI),
    candidate: cfg(GPT_ON_OPENAI),
    ...window,
    tenantId: 'tenant-f',
  });
  assert.equal(report.sample.records, 3);
  // The upstream failure was allowed by the policy (agrees); the guard refusal is not compared;
  // the recorded throttle disagrees with a replay that has no limits.
  assert.deepEqual(report.fidelity, { matching: 1, compared: 2 });
  assert.equal(report.changed, 0);
});
