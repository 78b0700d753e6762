/**
 * Budgets scaled out: two real gateway processes share one PostgreSQL database (created here,
 * dropped after) and one Redis key prefix. Under concurrent load from both instances against
 * one tenant budget, the spend the records show stays within one reservation of the budget
 * (never above it), and the Redis counter both instances charged equals the sum of the
 * records exactly.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createClient } from 'redis';
import { createTestDatabase, type TestDatabase } from '../src/store/postgres/test-database.ts';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

const REDIS_URL = process.env['PORTCULLIS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const PREFIX = `portcullis-budget-scale:${randomUUID()}:`;
const KEY_HASH_SECRET = randomBytes(32).toString('base64url');
// Each request: 10 prompt tokens (o200k_base: 3 + 4 per message + 3 priming) × 1000 µ$ + 3
// completion × 2000 µ$ = 16,000 µ$; reserved: the prompt bound (16 + 8 + 3 tokens) + 3 × 2000 = 33,000.
const REQUEST_COST = 16_000;
const RESERVATION = 33_000;
const BUDGET_MICROS = 2_400_000; // 150 requests' worth

const STATE_YAML = [
  'store:',
  '  driver: postgres',
  '  url: "${DATABASE_URL}"',
  '  pool_size: 4',
  'security:',
  '  data_dir: ./state',
  '  key_hash_secret: "${PORTCULLIS_KEY_HASH_SECRET}"',
  'redis:',
  '  url: "${TEST_REDIS_URL}"',
  `  key_prefix: "${PREFIX}"`,
  'pricing:',
  '  version: scale-test',
  '  models: [ { provider: openai, model: gpt-4o-mini, input_per_1m: 1000, output_per_1m: 2000 } ]',
  'budgets:',
  '  backend: redis',
  '  rules:',
  `    - { name: tenant-monthly, scope: tenant, period: month, amount_usd: ${BUDGET_MICROS / 1_000_000}, alert_at_percent: [50] }`,
  '',
].join('\n');
const MODELS_YAML = 'models:\n  gpt:\n    targets: [ { provider: openai, model: gpt-4o-mini } ]\n';
const BODY = { model: 'gpt', max_tokens: 3, messages: [{ role: 'user', content: 'hello budget world' }] };

let db: TestDatabase;
const gws: RunningGateway[] = [];

before(async () => {
  db = await createTestDatabase('portcullis_test_budget');
  const env = { DATABASE_URL: db.url, PORTCULLIS_KEY_HASH_SECRET: KEY_HASH_SECRET, TEST_REDIS_URL: REDIS_URL };
  for (let i = 0; i < 2; i++) gws.push(await startGateway({ stateYaml: STATE_YAML, modelsYaml: MODELS_YAML, env }));
});

after(async () => {
  for (const gw of gws) await gw.stop();
  await db?.drop();
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  for await (const batch of redis.scanIterator({ MATCH: `${PREFIX}*`, COUNT: 500 }))
    if (batch.length > 0) await redis.del(batch);
  await redis.close();
});

function chat(gw: RunningGateway, key: string) {
  return rawRequest(`${gw.url}/v1/chat/completions`, {
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(BODY),
  });
}

test('two instances under concurrent load keep one shared budget within one reservation, and account for it exactly', {
  timeout: 240_000,
}, async () => {
  const [a, b] = gws as [RunningGateway, RunningGateway];
  const key = await a.createKey({ models: 'gpt' });
  const allowed = [0, 0];
  let refused = 0;
  const unexpected: string[] = [];
  // Six concurrent loops per instance until both have been refused repeatedly: the budget is full.
  await Promise.all(
    [a, b].flatMap((gw, i) =>
      Array.from({ length: 6 }, async () => {
        while (refused < 40 && unexpected.length === 0) {
          const r = await chat(gw, key);
          if (r.status === 200) allowed[i]!++;
          else if (
            r.status === 402 &&
            ['budget.exceeded', 'budget.reservation_too_large'].includes(r.json?.error?.code)
          )
            refused++;
          else unexpected.push(`${r.status} ${r.text.slice(0, 200)}`);
        }
      }),
    ),
  );
  assert.deepEqual(unexpected, []);
  assert.ok(allowed[0]! > 20 && allowed[1]! > 20, `both instances served: ${allowed.join(' + ')}`);
  // Reservations still in flight when the loops stopped may have refused requests that would have
  // fitted once settled; one request at a time, alternating instances, fills what is left, so the
  // first refusal now means less than one reservation (33,000 µ$, 1.4 %) remains.
  for (let i = 0; ; i++) {
    const r = await chat(gws[i % 2]!, key);
    if (r.status === 402) break;
    assert.equal(r.status, 200, r.text.slice(0, 200));
    allowed[i % 2]!++;
  }

  let spent = 0;
  for (let i = 0; i < 50; i++) {
    const r = await db.query<{ n: string; cost: string }>(
      'SELECT COUNT(*) AS n, SUM(cost_micros) AS cost FROM request_records WHERE status = 200',
      [],
    );
    spent = Number(r.rows[0]!.cost);
    if (Number(r.rows[0]!.n) === allowed[0]! + allowed[1]!) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(spent, (allowed[0]! + allowed[1]!) * REQUEST_COST, 'every served request is recorded at its exact cost');
  assert.ok(spent <= BUDGET_MICROS, `spent ${spent} µ$ must not pass the budget of ${BUDGET_MICROS}`);
  assert.ok(
    spent > BUDGET_MICROS - RESERVATION,
    `spent ${spent} µ$ is within one reservation of the budget ${BUDGET_MICROS}`,
  );

  // What both instances charged in Redis is exactly what the records say.
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  try {
    const counters: string[] = [];
    for await (const batch of redis.scanIterator({
      MATCH: `${PREFIX}budget:tenant-monthly/*`,
      TYPE: 'hash',
      COUNT: 500,
    })) {
      counters.push(...batch.filter((k) => !k.endsWith(':h')));
    }
    assert.equal(counters.length, 1, counters.join(', '));
    const counter = await redis.hGetAll(counters[0]!);
    assert.deepEqual(
      [Number(counter['spent']), Number(counter['held'] ?? 0), Number(counter['alerted'])],
      [spent, 0, 50],
    );
  } finally {
    await redis.close();
  }
  // The 50 % threshold fired once across the fleet.
  const alerts = gws.map(
    (gw) =>
      gw
        .output()
        .split('\n')
        .filter((l) => l.includes('"budget.threshold"')).length,
  );
  assert.equal(alerts[0]! + alerts[1]!, 1, `threshold events per instance: ${alerts.join(', ')}`);
});
