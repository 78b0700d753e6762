import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../config/load.ts';
import type { DecisionInputs } from '../policy/decision-inputs.ts';
import { sampleApiKeyRecord, sampleRequestRecord } from '../store/contract-fixtures.ts';
import type { RequestRecord } from '../store/store.ts';
import { replayRecords } from './replay.ts';

const PROVIDERS = `providers:
  openai: { kind: openai, base_url: "https://api.openai.com/v1", api_key: "\${K}" }
  mistral: { kind: mistral, base_url: "https://api.mistral.ai/v1", api_key: "\${K}" }
`;
const MODELS = `models:
  gpt: { targets: [ { provider: openai, model: gpt-4o-mini } ] }
  small: { targets: [ { provider: mistral, model: mistral-small-latest } ] }
`;
const config = (extra: string) => parseConfig(`${PROVIDERS}${MODELS}${extra}`, '<test>', { K: 'x' });

const inputs: DecisionInputs = {
  callerKind: 'api_key',
  items: 1,
  tools: 0,
  images: 0,
  largestImageBytes: 0,
  promptChars: 40,
  promptTokens: 15,
  maxTokensField: 'max_tokens',
  maxTokens: 100,
  n: 1,
  cacheHint: 'none',
  network: 'loopback',
};
const key = sampleApiKeyRecord({ id: 'k1', allowedModels: ['*'] });
const callers = { apiKey: async (id: string) => (id === key.id ? key : undefined) };
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, 0) + s * 1000).toISOString();

function rec(s: number, over: Partial<RequestRecord> = {}): RequestRecord {
  return sampleRequestRecord({
    time: at(s),
    keyId: 'k1',
    model: 'gpt',
    provider: 'openai',
    targetModel: 'gpt-4o-mini',
    latencyMs: 50,
    promptTokens: 15,
    completionTokens: 20,
    totalTokens: 35,
    decisionInputs: inputs,
    ...over,
  });
}

test('a request rate throttles the requests past its burst, in time order, and refills with the virtual clock', async () => {
  const cfg = config('limits:\n  rules:\n    - { scope: key, requests_per_minute: 6, burst: 2 }\n');
  // Three at once, then one 10 s later (one request refilled), then one more at once.
  const records = [rec(0), rec(0.1), rec(0.2), rec(10.2), rec(10.3)];
  const { decisions, skipped } = await replayRecords(cfg, records.toReversed(), callers);
  assert.equal(skipped.size, 0);
  assert.deepEqual(
    records.map((r) => decisions.get(r.id)?.verdict),
    ['allowed', 'allowed', 'throttled', 'allowed', 'throttled'],
  );
  const t = decisions.get(records[2]!.id)!;
  assert.deepEqual([t.code, t.stage, t.rule], ['limit.requests', 'limit', 'key-rpm']);
  assert.deepEqual(
    t.trace.map((s) => `${s.stage}:${s.result}`),
    ['validate:passed', 'authorize:passed', 'limit:refused'],
  );
});

test('concurrency counts requests that overlap in recorded time, and a token limit settles with recorded usage', async () => {
  const cfg = config(
    'limits:\n  rules:\n    - { scope: key, concurrent: 1 }\n    - { scope: key, model: small, tokens_per_minute: 400 }\n',
  );
  const long = rec(0, { latencyMs: 5_000 });
  const overlapping = rec(1);
  const after = rec(6);
  const tokens = [0, 1, 2, 3].map((i) =>
    rec(20 + i / 10, { model: 'small', provider: 'mistral', targetModel: 'mistral-small-latest', totalTokens: 150 }),
  );
  const { decisions } = await replayRecords(cfg, [long, overlapping, after, ...tokens], callers);
  assert.deepEqual(
    [long, overlapping, after].map((r) => decisions.get(r.id)?.code ?? 'ok'),
    ['ok', 'limit.concurrency', 'ok'],
  );
  // Each reserves 15 + 100 = 115 and settles at 150: 150, 300, then 300 + 115 > 400 refuses the rest.
  assert.deepEqual(
    tokens.map((r) => decisions.get(r.id)?.code ?? 'ok'),
    ['ok', 'ok', 'limit.tokens', 'limit.tokens'],
  );
});

test('a removed model is refused by route, a rerouted one names its new target, a new price reprices', async () => {
  const removed = parseConfig(
    `${PROVIDERS}models:\n  gpt: { targets: [ { provider: mistral, model: mistral-small-latest } ] }\npricing:\n  version: test-1\n  models:\n    - { provider: mistral, model: mistral-small-latest, input_per_1m: 1, output_per_1m: 2 }\n`,
    '<test>',
    { K: 'x' },
  );
  const r1 = rec(0);
  const r2 = rec(1, { model: 'small', provider: 'mistral', targetModel: 'mistral-small-latest' });
  const { decisions } = await replayRecords(removed, [r1, r2], callers);
  const moved = decisions.get(r1.id)!;
  assert.equal(moved.verdict, 'allowed');
  assert.equal(moved.target, 'mistral/mistral-small-latest');
  assert.equal(moved.costMicros, 15 + 40);
  const gone = decisions.get(r2.id)!;
  assert.deepEqual(
    [gone.verdict, gone.code, gone.stage, gone.rule],
    ['refused', 'model.not_found', 'route', 'route:small'],
  );
});

test('payload caps and key scopes refuse from the recorded shape; records without inputs are skipped, not guessed', async () => {
  const cfg = config('payload:\n  max_output_tokens: 50\n');
  const scoped = sampleApiKeyRecord({ id: 'k2', allowedModels: ['small'] });
  const dir = { apiKey: async (id: string) => (id === 'k1' ? key : id === 'k2' ? scoped : undefined) };
  const big = rec(0);
  const outOfScope = rec(1, { keyId: 'k2', decisionInputs: { ...inputs, maxTokens: 10 } });
  const old = rec(2, { decisionInputs: null });
  const gone = rec(3, { keyId: 'deleted' });
  const { decisions, skipped } = await replayRecords(cfg, [big, outOfScope, old, gone], dir);
  assert.deepEqual(
    [decisions.get(big.id)?.rule, decisions.get(big.id)?.code],
    ['payload:max_output_tokens', 'request.output_limit'],
  );
  assert.deepEqual(
    [decisions.get(outOfScope.id)?.stage, decisions.get(outOfScope.id)?.code],
    ['authorize', 'model.not_found'],
  );
  assert.deepEqual([skipped.get(old.id), skipped.get(gone.id)], ['no_inputs', 'unknown_key']);
});

test('a budget is spent by recorded usage at the policy price and refuses once exhausted', async () => {
  // $1 per 1M tokens in and out: each request costs 15 + 20 = 35 µ$; the reservation bounds the
  // prompt by its bytes plus format overhead, and the completion by max_tokens (100).
  const cfg = config(
    'pricing:\n  version: t1\n  models:\n    - { provider: mistral, model: mistral-small-latest, input_per_1m: 1, output_per_1m: 1 }\nbudgets:\n  rules:\n    - { name: small-daily, scope: key, model: small, period: day, amount_usd: 0.0003 }\n',
  );
  const records = Array.from({ length: 10 }, (_, i) =>
    rec(i, { model: 'small', provider: 'mistral', targetModel: 'mistral-small-latest' }),
  );
  const { decisions } = await replayRecords(cfg, records, callers);
  const codes = records.map((r) => decisions.get(r.id)?.code ?? 'ok');
  // Each reserves its worst case (the prompt's byte bound with the format allowance, plus 100
  // completion tokens: over 140 µ$) and spends 35; after four, 160 µ$ are left, too little to reserve.
  assert.deepEqual(codes, [...Array(4).fill('ok'), ...Array(6).fill('budget.reservation_too_large')]);
  assert.equal(decisions.get(records[0]!.id)?.costMicros, 35);
});

test('a request recorded without usage (refused live) is settled with its prompt estimate and says so', async () => {
  const cfg = config('limits:\n  rules:\n    - { scope: key, tokens_per_minute: 40 }\n');
  const refusedLive = {
    status: 429,
    errorCode: 'limit.requests',
    promptTokens: null,
    completionTokens: null,
    totalTokens: null,
    decisionInputs: { ...inputs, maxTokens: 5 },
  };
  const records = [rec(0, refusedLive), rec(0.1, refusedLive)];
  const { decisions } = await replayRecords(cfg, records, callers);
  const [a, b] = records.map((r) => decisions.get(r.id)!);
  assert.deepEqual([a?.verdict, a?.usageAssumed], ['allowed', true]);
  // The first settles at its 15-token prompt estimate: 15 + (15 + 5) = 35 <= 40, so the second fits too.
  assert.equal(b?.verdict, 'allowed');
  const third = await replayRecords(cfg, [...records, rec(0.2, refusedLive)], callers);
  assert.equal([...third.decisions.values()].filter((d) => d.verdict === 'throttled').length, 1);
});
