/**
 * Cost metering and budgets through the real gateway process: records carry the provider's
 * exact tokens and their cost (streams included), the estimated flag when the provider sends
 * no usage, a hard budget refusing before the call (402 through the openai SDK), a soft
 * threshold raising one `budget.threshold` security event, a stream cut mid-way by a hard
 * budget in both dialects with its spend still recorded, unpriced models failing closed, and
 * `portcullis report usage` adding it all up.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import OpenAI, { APIError } from 'openai';
import { type RunningGateway, rawRequest, STANDARD_MODELS, startGateway } from './helpers/gateway.ts';
import { recordOf as recordOfIn } from './helpers/records.ts';

// Round prices make exact expectations readable: 1000 µ$ per prompt token, 2000 per completion token.
const CONFIG = `server:
  host: 127.0.0.1
  port: 0
  shutdown_grace_ms: 3000
pricing:
  version: it-2026-01
  models:
    - { provider: openai, model: gpt-4o-mini, input_per_1m: 1000, output_per_1m: 2000, cached_input_per_1m: 500 }
    - { provider: llama, model: meta-llama/Llama-3.1-8B-Instruct, input_per_1m: 1000, output_per_1m: 2000 }
budgets:
  default_max_tokens: 8
  rules:
    - { name: gpt-daily, scope: key, model: gpt, period: day, amount_usd: 0.2, alert_at_percent: [50, 90] }
    - { name: llama-daily, scope: key, model: llama, period: day, amount_usd: 0.45 }
    - { name: mystery-strict, scope: tenant, model: mystery, period: month, amount_usd: 100 }
    - { name: lenient, scope: tenant, model: lenient, period: month, amount_usd: 100, unpriced: allow }
`;
const MODELS = `${STANDARD_MODELS}  mystery:
    targets: [ { provider: openai, model: my-finetune } ]
  lenient:
    targets: [ { provider: openai, model: my-finetune } ]
`;

interface RecordRow {
  id: string;
  model: string;
  status: number;
  error_code: string | null;
  stream: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cached_tokens: number | null;
  cost_micros: number | null;
  price_version: string | null;
  usage_estimated: number;
}

let gw: RunningGateway;
before(async () => {
  gw = await startGateway({ serverYaml: CONFIG, modelsYaml: MODELS });
});
after(async () => {
  await gw?.stop();
});

const recordOf = (requestId: string): Promise<RecordRow> => recordOfIn<RecordRow>(gw, requestId);

const post = (key: string, path: string, body: unknown) =>
  rawRequest(`${gw.url}${path}`, {
    headers: {
      authorization: `Bearer ${key}`,
      'x-api-key': key,
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
    },
    body: JSON.stringify(body),
  });

function thresholdEvents(): Array<{ detail: Record<string, unknown>; severity: string }> {
  return gw
    .output()
    .split('\n')
    .filter((l) => l.includes('"budget.threshold"'))
    .map(
      (l) => (JSON.parse(l) as { securityEvent: { detail: Record<string, unknown>; severity: string } }).securityEvent,
    );
}

describe('records carry exact tokens and cost', () => {
  test('a whole response and a stream: tokens equal the provider usage, cost = tokens × price, price version kept', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(), maxRetries: 0 });
    const whole = await client.chat.completions
      .create({ model: 'gpt', max_tokens: 20, messages: [{ role: 'user', content: 'hello budget world' }] })
      .withResponse();
    const u = whole.data.usage!;
    const r = await recordOf(whole.response.headers.get('x-request-id')!);
    assert.deepEqual(
      [r.prompt_tokens, r.completion_tokens, r.total_tokens, r.cached_tokens],
      [u.prompt_tokens, u.completion_tokens, u.total_tokens, 0],
    );
    assert.equal(r.cost_micros, u.prompt_tokens * 1000 + u.completion_tokens * 2000);
    assert.equal(r.price_version, 'it-2026-01');
    assert.equal(r.usage_estimated, 0);
    // The access log line carries the same tokens and cost.
    const requestId = whole.response.headers.get('x-request-id')!;
    const findLine = () =>
      gw
        .output()
        .split('\n')
        .filter((l) => l.includes(`"requestId":"${requestId}"`) && l.includes('"msg":"request"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)[0];
    for (let i = 0; i < 100 && findLine() === undefined; i++) await new Promise((res) => setTimeout(res, 50)); // the log is written asynchronously
    const line = findLine();
    assert.ok(line, 'no access log line for the request');
    assert.deepEqual(
      [line.promptTokens, line.completionTokens, line.costMicros],
      [u.prompt_tokens, u.completion_tokens, r.cost_micros],
    );

    const stream = await client.chat.completions
      .create({
        model: 'gpt',
        max_tokens: 20,
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'streamed and metered exactly' }],
      })
      .withResponse();
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const c of stream.data) if (c.usage) usage = c.usage;
    const s = await recordOf(stream.response.headers.get('x-request-id')!);
    assert.ok(usage);
    assert.deepEqual(
      [s.stream, s.prompt_tokens, s.completion_tokens, s.usage_estimated],
      [1, usage.prompt_tokens, usage.completion_tokens, 0],
    );
    assert.equal(s.cost_micros, usage.prompt_tokens * 1000 + usage.completion_tokens * 2000);

    const claude = await client.chat.completions
      .create({ model: 'claude', messages: [{ role: 'user', content: 'priced by default' }] })
      .withResponse();
    const c = await recordOf(claude.response.headers.get('x-request-id')!);
    const cu = claude.data.usage!;
    // Built-in default for claude-sonnet-4-5: $3 / $15 per 1M tokens (half up to whole µ$).
    assert.equal(c.cost_micros, Math.round(cu.prompt_tokens * 3 + cu.completion_tokens * 15));
    assert.equal(c.price_version, 'builtin-2026-12-01');
  });

  test('a provider that sends no usage: the gateway counts the tokens and marks the record estimated', async () => {
    const key = await gw.createKey();
    await gw.mockControl('/__mock/faults', 'POST', { provider: 'openai', omitUsage: true, times: 2 });
    const whole = await post(key, '/v1/chat/completions', {
      model: 'gpt',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'no usage from upstream here' }],
    });
    assert.equal(whole.status, 200);
    assert.equal(whole.json.usage, undefined);
    const w = await recordOf(whole.headers.get('x-request-id')!);
    assert.equal(w.usage_estimated, 1);
    assert.equal(w.completion_tokens, Math.ceil('no usage from upstream here'.length / 4));
    assert.ok(w.prompt_tokens! > 0);
    assert.equal(w.cost_micros, w.prompt_tokens! * 1000 + w.completion_tokens! * 2000);

    const stream = await post(key, '/v1/chat/completions', {
      model: 'gpt',
      max_tokens: 20,
      stream: true,
      messages: [{ role: 'user', content: 'streamed without any usage' }],
    });
    assert.equal(stream.status, 200);
    assert.match(stream.text, /\[DONE\]/);
    const s = await recordOf(stream.headers.get('x-request-id')!);
    assert.deepEqual(
      [s.usage_estimated, s.status, s.completion_tokens],
      [1, 200, Math.ceil('streamed without any usage'.length / 4)],
    );
  });
});

describe('hard and soft budgets', () => {
  test('a hard budget refuses before the call with 402 naming the reservation, what remains and the max_tokens that fits; a soft threshold raises one event', async () => {
    const key = await gw.createKey();
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    const before = ((await gw.mockControl('/__mock/requests', 'GET')) as { requests: unknown[] }).requests.length;
    // gpt-4o-mini prompts are billed as OpenAI counts them (o200k_base, 4 per message, 3 priming):
    // 10 prompt + 3 completion tokens = 16,000 µ$; then 47 + 40 = 127,000 µ$: 143,000 of 200,000 (71.5 %).
    await client.chat.completions.create({
      model: 'gpt',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hello budget world' }],
    });
    const long = 'word '.repeat(40).trim();
    await client.chat.completions.create({ model: 'gpt', max_tokens: 50, messages: [{ role: 'user', content: long }] });
    const events = await waitFor(() => {
      const e = thresholdEvents().filter(
        (x) => x.detail['budget'] === 'gpt-daily' && x.detail['scopeSubject'] !== undefined,
      );
      return e.length > 0 ? e : undefined;
    });
    assert.deepEqual(
      events.map((e) => [e.detail['percent'], e.detail['scope'], e.detail['spentUsd'], e.detail['limitUsd']]),
      [[50, 'key', '0.143000', '0.200000']],
    );

    // 'hello budget world' with max_tokens 50 reserves its prompt bound (16 + 8 + 3 tokens) and
    // 50 × 2000 µ$ = 127,000 µ$: more than the 57,000 left, but the budget is not exhausted.
    const err = await client.chat.completions
      .create({ model: 'gpt', max_tokens: 50, messages: [{ role: 'user', content: 'hello budget world' }] })
      .then(
        () => assert.fail('a request past the hard budget passed'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof APIError, String(err));
    assert.equal(err.status, 402);
    assert.equal(err.code, 'budget.reservation_too_large');
    assert.equal((err.error as { type?: string }).type, 'insufficient_quota');
    assert.equal(
      err.message,
      '402 This request\'s worst-case cost of 0.127000 USD exceeds the 0.057000 USD that remains of the key budget "gpt-daily" (0.200000 USD this period); lower max_tokens to 15 or less to fit.',
    );
    const requests = ((await gw.mockControl('/__mock/requests', 'GET')) as { requests: unknown[] }).requests.length;
    assert.equal(requests - before, 2, 'the refused request never reached the provider');

    // The advice holds: the same request with max_tokens 15 passes (16,000 µ$ spent: 159,000) ...
    await client.chat.completions.create({
      model: 'gpt',
      max_tokens: 15,
      messages: [{ role: 'user', content: 'hello budget world' }],
    });
    // ... and so does a small one (the refusal is about the reservation, not a lock-out) ...
    await client.chat.completions.create({ model: 'gpt', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    // ... and another key has its own budget.
    const other = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(), maxRetries: 0 });
    await other.chat.completions.create({ model: 'gpt', max_tokens: 50, messages: [{ role: 'user', content: long }] });
    // Once per threshold per period per key: this key (84.5 %) stays at one event, the other key (63.5 %) gets its own.
    const fifty = await waitFor(() => {
      const e = thresholdEvents().filter((x) => x.detail['budget'] === 'gpt-daily' && x.detail['percent'] === 50);
      return e.length === 2 ? e : undefined;
    });
    assert.equal(new Set(fifty.map((e) => e.detail['scopeSubject'])).size, 2);
    assert.equal(
      thresholdEvents().filter((x) => x.detail['budget'] === 'gpt-daily').length,
      2,
      'no 90 % event: nobody reached it',
    );
  });

  test('a stream that passes a hard budget mid-way ends with an OpenAI error chunk; its spend is recorded and charged', async () => {
    const key = await gw.createKey();
    const prompt = 'alpha '.repeat(60).trim();
    const res = await post(key, '/v1/chat/completions', {
      model: 'llama',
      stream: true,
      messages: [{ role: 'user', content: prompt }],
    });
    // Reserved: the prompt bound (16 + 8 + 359 bytes) + 8 default tokens = 399,000 µ$ of 450,000.
    assert.equal(res.status, 200, 'the reservation (prompt + 8 default tokens) fitted');
    const events = res.text
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice(6));
    assert.ok(!events.includes('[DONE]'), 'the stream did not complete');
    const last = JSON.parse(events[events.length - 1]!) as { error: { code: string; type: string } };
    assert.equal(last.error.code, 'budget.exceeded');
    const relayed = events
      .slice(0, -1)
      .map(
        (e) => (JSON.parse(e) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '',
      )
      .join('');
    assert.ok(
      relayed.length > 20 && relayed.length < prompt.length,
      `cut mid-way after ${relayed.length} of ${prompt.length} characters`,
    );

    const r = await recordOf(res.headers.get('x-request-id')!);
    assert.deepEqual([r.status, r.error_code, r.usage_estimated, r.stream], [402, 'budget.exceeded', 1, 1]);
    assert.ok(
      r.completion_tokens! > 0 && r.cost_micros! > 0,
      `charged ${r.cost_micros} µ$ for ${r.completion_tokens} tokens`,
    );
    // The budget was charged exactly what was recorded: a refusal names what remains.
    const next = await post(key, '/v1/chat/completions', {
      model: 'llama',
      max_tokens: 300,
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal(next.status, 402);
    assert.equal(next.json.error.code, 'budget.reservation_too_large');
    assert.ok(
      next.json.error.message.includes(`exceeds the ${((450_000 - r.cost_micros!) / 1e6).toFixed(6)} USD that remains`),
      next.json.error.message,
    );
  });

  test('an Anthropic-dialect stream is reserved at its max_tokens and runs to its end within the budget', async () => {
    const key = await gw.createKey();
    const res = await post(key, '/v1/messages', {
      model: 'llama',
      max_tokens: 20,
      stream: true,
      messages: [{ role: 'user', content: 'alpha '.repeat(60).trim() }],
    });
    assert.equal(res.status, 200);
    assert.match(res.text, /event: message_stop/);
    assert.doesNotMatch(res.text, /event: error/);
    const r = await recordOf(res.headers.get('x-request-id')!);
    assert.deepEqual([r.status, r.usage_estimated, r.completion_tokens], [200, 0, 20]);
    // Its reservation (383 + 20 tokens = 423,000 µ$) was replaced by the real cost: 63 × 1000 + 20 × 2000.
    assert.equal(r.cost_micros, 103_000);
    const over = await post(key, '/v1/messages', {
      model: 'llama',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(over.status, 402, '103,000 spent + 27,000 + 400,000 reserved would pass 450,000');
    assert.equal(over.json.error.type, 'billing_error');
    assert.match(
      over.json.error.message,
      /worst-case cost of 0\.427000 USD exceeds the 0\.347000 USD that remains of the key budget "llama-daily"/,
    );
  });

  test('a model without a price fails closed under a budget, unless the rule opts out (then its cost is null)', async () => {
    const key = await gw.createKey();
    const strict = await post(key, '/v1/chat/completions', {
      model: 'mystery',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(strict.status, 403);
    assert.equal(strict.json.error.code, 'budget.unpriced_model');
    const lenient = await post(key, '/v1/chat/completions', {
      model: 'lenient',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(lenient.status, 200);
    const r = await recordOf(lenient.headers.get('x-request-id')!);
    assert.deepEqual([r.cost_micros, r.price_version, r.total_tokens! > 0], [null, null, true]);
  });
});

describe('portcullis report usage', () => {
  test('sums spend per key in SQL and matches the records; bad ranges exit 2', async () => {
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const r = await gw.cli([
      'report',
      'usage',
      '--config',
      gw.configPath,
      '--from',
      from,
      '--to',
      to,
      '--group-by',
      'key',
      '--format',
      'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      rows: Array<{ key: string; costMicros: number; requests: number }>;
      total: { costMicros: number; requests: number; unpricedRequests: number; estimatedRequests: number };
    };
    const db = new DatabaseSync(join(gw.dir, 'state', 'portcullis.db'), { readOnly: true });
    const sums = db.prepare('SELECT COUNT(*) AS n, SUM(cost_micros) AS cost FROM request_records').get() as {
      n: number;
      cost: number;
    };
    db.close();
    assert.equal(report.total.requests, sums.n);
    assert.equal(report.total.costMicros, sums.cost);
    assert.ok(report.total.unpricedRequests >= 1 && report.total.estimatedRequests >= 3);
    assert.ok(report.rows.length >= 5);

    const table = await gw.cli([
      'report',
      'usage',
      '--config',
      gw.configPath,
      '--from',
      from,
      '--to',
      to,
      '--group-by',
      'model',
    ]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^model\s+requests/);
    assert.match(table.stdout, /\nTOTAL\s+\d+/);
    const csv = await gw.cli([
      'report',
      'usage',
      '--config',
      gw.configPath,
      '--from',
      from,
      '--to',
      to,
      '--group-by',
      'day',
      '--format',
      'csv',
    ]);
    assert.match(
      csv.stdout,
      /^day,requests,prompt_tokens,completion_tokens,cached_tokens,cache_write_tokens,total_tokens,cost_usd,unpriced,estimated\r\n\d{4}-\d{2}-\d{2},/,
    );

    const backwards = await gw.cli(['report', 'usage', '--config', gw.configPath, '--from', to, '--to', from]);
    assert.equal(backwards.code, 2);
    assert.match(backwards.stderr, /must be later than --from/);
    const junk = await gw.cli(['report', 'usage', '--config', gw.configPath, '--from', 'last tuesday', '--to', to]);
    assert.equal(junk.code, 2);
    assert.match(junk.stderr, /--from "last tuesday" is not an ISO-8601 date/);
  });
});

async function waitFor<T>(probe: () => T | undefined, boundMs = 10_000): Promise<T> {
  const end = Date.now() + boundMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail('condition not reached');
    await new Promise((r) => setTimeout(r, 50));
  }
}
