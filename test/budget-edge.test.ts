/**
 * Budgets at their edge under concurrency, through the real gateway process, with in-process
 * and with Redis budgets: waves of concurrent requests whose prompts a characters ÷ 4
 * estimate undercounts (punctuation, emoji, CJK, one-word turns) all reserve before any
 * settles (the emulator answers after 150 ms). Whatever passes, the final spend the records
 * show never exceeds the budget, for a model counted with OpenAI's tokenizer and one bounded
 * by its bytes; refusals name the reservation when the budget is not exhausted.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { createClient } from 'redis';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

const REDIS_URL = process.env['PORTCULLIS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const BUDGET_MICROS = 150_000;
const WAVES = 4;
const PER_WAVE = 24;

// 1000 µ$ per prompt token and 2000 per completion token: a few dozen requests fill a budget.
const pricingAndBudgets = (backend: 'memory' | 'redis') => `pricing:
  version: edge-test
  models:
    - { provider: openai, model: gpt-4o-mini, input_per_1m: 1000, output_per_1m: 2000 }
    - { provider: llama, model: meta-llama/Llama-3.1-8B-Instruct, input_per_1m: 1000, output_per_1m: 2000 }
budgets:
  backend: ${backend}
  rules:
    - { name: gpt-edge, scope: key, model: gpt, period: day, amount_usd: ${BUDGET_MICROS / 1_000_000} }
    - { name: llama-edge, scope: key, model: llama, period: day, amount_usd: ${BUDGET_MICROS / 1_000_000} }
`;
const MODELS = `models:
  gpt:
    targets: [ { provider: openai, model: gpt-4o-mini } ]
  llama:
    targets: [ { provider: llama, model: meta-llama/Llama-3.1-8B-Instruct } ]
`;
const SERVER = 'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\n';

/** Short prompts whose real token count is far above characters ÷ 4. */
const PROMPTS = [
  'a,b;c.d!e?f:g',
  '👩‍👩‍👧‍👦🎉🎉🏳️‍🌈',
  '日本語の文です。',
  '1 2 3 4 5 6 7 8',
  'x',
  '{"k":[1,2,{"z":null}]}',
];

async function spendOf(
  gw: RunningGateway,
  model: string,
  expected: number,
): Promise<{ spent: number; served: number }> {
  for (let i = 0; ; i++) {
    const db = new DatabaseSync(join(gw.dir, 'state', 'portcullis.db'), { readOnly: true });
    const row = db
      .prepare(
        'SELECT COUNT(*) AS n, SUM(CASE WHEN status = 200 THEN 1 ELSE 0 END) AS served, COALESCE(SUM(cost_micros), 0) AS cost FROM request_records WHERE model = ?',
      )
      .get(model) as { n: number; served: number; cost: number };
    db.close();
    if (row.n >= expected) return { spent: row.cost, served: row.served };
    if (i > 150) assert.fail(`only ${row.n} of ${expected} request records for ${model}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function hammer(gw: RunningGateway, model: string): Promise<string> {
  const key = await gw.createKey({ models: model });
  const codes = new Map<string, number>();
  let sent = 0;
  for (let wave = 0; wave < WAVES; wave++) {
    const replies = await Promise.all(
      Array.from({ length: PER_WAVE }, (_, i) => {
        sent++;
        const prompt = PROMPTS[(wave + i) % PROMPTS.length]!;
        return rawRequest(`${gw.url}/v1/chat/completions`, {
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            model,
            max_tokens: 2,
            messages: [
              { role: 'system', content: '.' },
              { role: 'user', content: prompt },
            ],
          }),
        });
      }),
    );
    for (const r of replies) {
      const code = r.status === 200 ? '200' : `${r.status} ${r.json?.error?.code}`;
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if (r.status === 402 && r.json?.error?.code === 'budget.reservation_too_large') {
        assert.match(r.json.error.message, /worst-case cost of \d+\.\d{6} USD exceeds the \d+\.\d{6} USD that remains/);
      }
    }
  }
  const seen = [...codes.keys()];
  assert.ok(
    seen.every((c) => c === '200' || c === '402 budget.reservation_too_large' || c === '402 budget.exceeded'),
    `unexpected answers: ${JSON.stringify([...codes])}`,
  );
  assert.ok((codes.get('200') ?? 0) > 0, 'some requests were served');
  assert.ok((codes.get('200') ?? 0) < sent, `the budget's edge was reached: ${JSON.stringify([...codes])}`);
  const { spent, served } = await spendOf(gw, model, sent);
  assert.equal(served, codes.get('200'));
  assert.ok(
    spent <= BUDGET_MICROS,
    `${model}: spent ${spent} µ$ over a budget of ${BUDGET_MICROS} µ$ (${JSON.stringify([...codes])})`,
  );
  return `${model}: spent ${spent} of ${BUDGET_MICROS} µ$, answers ${JSON.stringify(Object.fromEntries(codes))}`;
}

describe("concurrent requests at a budget's edge never overspend", () => {
  const gateways: RunningGateway[] = [];
  const prefix = `portcullis-budget-edge:${randomUUID()}:`;
  after(async () => {
    for (const gw of gateways) await gw.stop();
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 }))
      if (batch.length > 0) await redis.del(batch);
    await redis.close();
  });

  for (const backend of ['memory', 'redis'] as const) {
    test(`${backend} budgets: OpenAI-tokenized and byte-bounded models`, { timeout: 120_000 }, async (t) => {
      const redisYaml = backend === 'redis' ? `redis:\n  url: "\${TEST_REDIS_URL}"\n  key_prefix: "${prefix}"\n` : '';
      const gw = await startGateway({
        serverYaml: SERVER + redisYaml + pricingAndBudgets(backend),
        modelsYaml: MODELS,
        mockOptions: { latencyMs: 150 },
        env: { TEST_REDIS_URL: REDIS_URL },
      });
      gateways.push(gw);
      for (const line of await Promise.all([hammer(gw, 'gpt'), hammer(gw, 'llama')])) t.diagnostic(line);
    });
  }
});
