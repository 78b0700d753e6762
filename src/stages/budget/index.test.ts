import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Caller, newOutcome, type RequestContext } from '../../core/context.ts';
import type { ModelPrice } from '../../cost/price-table.ts';
import { type GatewayError, isGatewayError } from '../../errors/gateway-error.ts';
import type { SecurityEvent } from '../../events/security-events.ts';
import { type BudgetBackend, BudgetBackendError } from '../../limits/budgets/budget-backend.ts';
import type { BudgetRuleConfig, BudgetsConfig } from '../../limits/budgets/config-types.ts';
import { createMemoryBudgetBackend } from '../../limits/budgets/memory-budget-backend.ts';
import { promptTokenBound } from '../../limits/prompt-bound.ts';
import { silentLogger } from '../../observability/logger.ts';
import type { ChatChunk } from '../../providers/canonical.ts';
import type { ModelRouteConfig, TargetConfig } from '../../providers/config-types.ts';
import { messagesStreamErrorEvent } from '../../surfaces/anthropic/index.ts';
import { createBudgetStage } from './index.ts';

const caller: Caller = {
  kind: 'jwt',
  keyId: 'jwt:abc',
  keyPrefix: 'jwt',
  tenantId: 'acme',
  label: 't',
  allowedModels: ['*'],
  subject: 'alice',
  issuer: 'https://idp',
  teamId: 'red',
};
let n = 0;
const NOW = Date.parse('2026-03-04T12:00:00Z');
// $1 per 1M prompt tokens = 1 µ$ per token; 2 µ$ per completion token: round numbers.
const PRICE: ModelPrice = {
  inputMicrosPer1M: 1_000_000,
  outputMicrosPer1M: 2_000_000,
  cachedInputMicrosPer1M: 500_000,
  cacheWriteMicrosPer1M: 1_000_000,
  cacheWrite1hMicrosPer1M: 1_000_000,
  version: 'v',
  effectiveDate: '2026-01-01',
  source: 'config',
};
const target: TargetConfig = { provider: 'p', model: 'm', weight: 1, priority: 0 };
const route = { name: 'gpt', type: 'chat', targets: [target], timeoutMs: 60_000 } as unknown as ModelRouteConfig;
const unpricedRoute = {
  name: 'odd',
  type: 'chat',
  targets: [{ ...target, model: 'odd' }],
  timeoutMs: 60_000,
} as unknown as ModelRouteConfig;
const models = new Map([
  ['gpt', route],
  ['odd', unpricedRoute],
]);
const priceFor = (t: TargetConfig) => (t.model === 'm' ? PRICE : undefined);

function ctx(body: Record<string, unknown> = {}): RequestContext {
  return {
    id: `req-${++n}`,
    startedAt: 0,
    receivedAt: new Date(0),
    surface: 'openai',
    operation: 'chat',
    http: { method: 'POST', path: '/v1/chat/completions', headers: {}, remoteAddress: '127.0.0.1' },
    signal: new AbortController().signal,
    log: silentLogger(),
    readBody: async () => Buffer.alloc(0),
    caller,
    request: {
      operation: 'chat',
      body: { model: 'gpt', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10, ...body },
    },
    surfaceRequest: undefined,
    route: undefined,
    response: undefined,
    outcome: newOutcome(),
  };
}

const rule = (r: Partial<BudgetRuleConfig>): BudgetRuleConfig => ({
  name: 'b',
  scope: 'team',
  subject: undefined,
  model: undefined,
  period: { kind: 'day' },
  amountMicros: 100,
  alertAtPercent: [],
  unpriced: 'refuse',
  ...r,
});
const config = (rules: BudgetRuleConfig[], defaultMaxTokens = 10): BudgetsConfig => ({
  backend: 'memory',
  onBackendError: 'fail_closed',
  defaultMaxTokens,
  rules,
});

function setup(
  rules: BudgetRuleConfig[],
  backend: BudgetBackend = createMemoryBudgetBackend({ now: () => NOW }),
  defaultMaxTokens = 10,
) {
  const events: SecurityEvent[] = [];
  const stage = createBudgetStage({
    config: config(rules, defaultMaxTokens),
    backend,
    models,
    priceFor,
    providerKind: () => 'mistral',
    events: { emit: (e) => events.push(e) },
    now: () => NOW,
  });
  return { stage, backend, events };
}

async function refusedWith(p: Promise<unknown> | unknown): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    if (isGatewayError(err)) return err;
    throw err;
  }
  assert.fail('expected a refusal');
}

function chunk(content: string, usage?: ChatChunk['usage']): ChatChunk {
  return {
    id: 'c',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'gpt',
    choices: usage ? [] : [{ index: 0, delta: { content }, finish_reason: null }],
    ...(usage ? { usage } : {}),
  };
}
async function* chunks(list: ChatChunk[]): AsyncGenerator<ChatChunk> {
  for (const c of list) yield c;
}
const teamItem = (name = 'b', limit = 100) => ({
  key: `${name}/20260304T000000Z/red`,
  limitMicros: limit,
  ttlMs: 1000,
  thresholds: [],
});

describe('budget stage', () => {
  it('reserves prompt estimate + max_tokens at the prices, settles to the real cost, and records it', async () => {
    const { stage, backend } = setup([rule({})]);
    const c = ctx();
    await stage.onRequest!(c);
    // Prompt bound (one token per byte, no tokenizer for this provider kind): 16 per request +
    // 8 per message + 2 bytes of "hi" + 1 = 27 tokens at 1 µ$; 10 completion tokens at 2 µ$.
    assert.deepEqual((await backend.peek([teamItem()]))[0], {
      allowed: true,
      spentMicros: 0,
      heldMicros: 47,
      limitMicros: 100,
    });
    c.outcome.target = target;
    c.response = {
      kind: 'chat',
      body: {
        id: 'x',
        object: 'chat.completion',
        created: 0,
        model: 'gpt',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'hi', refusal: null },
            finish_reason: 'stop',
            logprobs: null,
          },
        ],
        usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 },
      },
    } as never;
    await stage.onResponse!(c);
    assert.deepEqual((await backend.peek([teamItem()]))[0], {
      allowed: true,
      spentMicros: 11,
      heldMicros: 0,
      limitMicros: 100,
    });
    assert.deepEqual([c.outcome.metered?.costMicros, c.outcome.metered?.estimated], [11, false]);
    await stage.onFinish!(c);
    assert.equal((await backend.peek([teamItem()]))[0]!.spentMicros, 11, 'settled once');
  });

  it('reserves with the byte bound when it fits, and tokenizes only when it does not', async () => {
    // An OpenAI model with a known tokenizer: "hello " × 200 is 1,200 bytes but ~200 tokens.
    const gptTarget: TargetConfig = { provider: 'p', model: 'gpt-4o-mini', weight: 1, priority: 0 };
    const gptRoute = { ...route, targets: [gptTarget] } as unknown as ModelRouteConfig;
    const body = { messages: [{ role: 'user', content: 'hello '.repeat(200) }], max_tokens: 10 };
    const req = { operation: 'chat' as const, body: { model: 'gpt', ...body } };
    const bytes = await promptTokenBound(req as never, { kind: 'openai', model: 'gpt-4o-mini' }, 'bytes');
    const exact = await promptTokenBound(req as never, { kind: 'openai', model: 'gpt-4o-mini' });
    assert.ok(exact < bytes / 4, `exact ${exact}, bytes ${bytes}`);
    const stageFor = (limit: number) => {
      const backend = createMemoryBudgetBackend({ now: () => NOW });
      const stage = createBudgetStage({
        config: config([rule({ amountMicros: limit })]),
        backend,
        models: new Map([['gpt', gptRoute]]),
        priceFor: () => PRICE,
        providerKind: () => 'openai',
        events: { emit: () => {} },
        now: () => NOW,
      });
      return { stage, backend };
    };
    // Plenty of room: the loose bound is held (no tokenizer run).
    const roomy = stageFor(1_000_000);
    await roomy.stage.onRequest!(ctx(body));
    assert.equal((await roomy.backend.peek([teamItem('b', 1_000_000)]))[0]!.heldMicros, bytes + 20);
    // Room for the exact bound only: admitted, holding the exact bound.
    const tight = stageFor(exact + 20 + 5);
    await tight.stage.onRequest!(ctx(body));
    assert.equal((await tight.backend.peek([teamItem('b', exact + 25)]))[0]!.heldMicros, exact + 20);
    // Not even the exact bound fits: refused on the exact figures, nothing held.
    const full = stageFor(exact + 10);
    const err = await refusedWith(full.stage.onRequest!(ctx(body)));
    assert.equal(err.code, 'budget.reservation_too_large');
    assert.match(err.message, new RegExp(`${(exact + 20) / 1_000_000}`));
    assert.equal((await full.backend.peek([teamItem('b', exact + 10)]))[0]!.heldMicros, 0);
  });

  it('holds the whole prompt at the cache-write price when the request carries prompt-caching hints', async () => {
    const premium: ModelPrice = { ...PRICE, cacheWriteMicrosPer1M: 3_000_000, cacheWrite1hMicrosPer1M: 5_000_000 };
    const held = async (body: Record<string, unknown>): Promise<number> => {
      const backend = createMemoryBudgetBackend({ now: () => NOW });
      const stage = createBudgetStage({
        config: config([rule({ amountMicros: 1_000_000 })]),
        backend,
        models,
        priceFor: () => premium,
        providerKind: () => 'mistral',
        events: { emit: () => undefined },
        now: () => NOW,
      });
      await stage.onRequest!(ctx(body));
      return (await backend.peek([teamItem('b', 1_000_000)]))[0]!.heldMicros;
    };
    const text = (ttl?: '1h') => ({
      type: 'text',
      text: 'hi',
      cache_control: ttl ? { type: 'ephemeral', ttl } : { type: 'ephemeral' },
    });
    // 27 prompt tokens (bound), 10 completion tokens at 2 µ$.
    assert.equal(await held({}), 27 * 1 + 20, 'no hint: the input price');
    // A content part adds one token of separator: 28.
    assert.equal(
      await held({ messages: [{ role: 'user', content: [text()] }] }),
      28 * 3 + 20,
      'a 5-minute hint: the write price',
    );
    assert.equal(
      await held({
        messages: [
          { role: 'system', content: [text('1h')] },
          { role: 'user', content: 'hi' },
        ],
      }),
      39 * 5 + 20,
      'a 1-hour hint anywhere: the 1-hour write price (39 prompt tokens for two messages)',
    );
    const withTool = { tools: [{ type: 'function', function: { name: 'f' }, cache_control: { type: 'ephemeral' } }] };
    const prompt = await promptTokenBound(ctx(withTool).request!, { kind: 'mistral', model: 'm' });
    assert.equal(await held(withTool), prompt * 3 + 20, 'a hint on a tool counts too');
  });

  it('a budget with room, but less than the worst case, names the reservation and the max_tokens that fits; nothing is held', async () => {
    // 47 µ$ reserved (27 prompt + 10 × 2 output) against 40: not exhausted, just too little.
    const { stage, backend } = setup([rule({ name: 'small', amountMicros: 40 })]);
    const err = await refusedWith(stage.onRequest!(ctx()));
    assert.deepEqual([err.code, err.status], ['budget.reservation_too_large', 402]);
    assert.equal(
      err.message,
      'This request\'s worst-case cost of 0.000047 USD exceeds the 0.000040 USD that remains of the team budget "small" (0.000040 USD this period); lower max_tokens to 6 or less to fit.',
    );
    assert.equal((await backend.peek([teamItem('small', 40)]))[0]!.heldMicros, 0);
    // The advice holds: 6 output tokens fit.
    await stage.onRequest!(ctx({ max_tokens: 6 }));
    // Even no output at all cannot fit a prompt larger than what remains.
    const big = await refusedWith(stage.onRequest!(ctx({ messages: [{ role: 'user', content: 'x'.repeat(100) }] })));
    assert.equal(big.code, 'budget.reservation_too_large');
    assert.match(big.message, /remains of the team budget "small".*even without output tokens the prompt does not fit/);
  });

  it('a truly exhausted budget keeps its message: 402 budget.exceeded naming the scope, budget and reset', async () => {
    const { stage, backend } = setup([rule({ name: 'small', amountMicros: 40 })]);
    const c = ctx({ max_tokens: 6 });
    await stage.onRequest!(c);
    c.outcome.target = target;
    c.response = {
      kind: 'chat',
      body: {
        id: 'x',
        object: 'chat.completion',
        created: 0,
        model: 'gpt',
        choices: [],
        usage: { prompt_tokens: 30, completion_tokens: 5, total_tokens: 35 },
      },
    } as never;
    await stage.onResponse!(c);
    assert.equal((await backend.peek([teamItem('small', 40)]))[0]!.spentMicros, 40);
    const err = await refusedWith(stage.onRequest!(ctx({ max_tokens: 1 })));
    assert.deepEqual([err.code, err.status], ['budget.exceeded', 402]);
    assert.equal(
      err.message,
      'The team budget "small" is exhausted for this period (0.000040 USD); it resets at 2026-03-05T00:00:00.000Z.',
    );
    assert.equal((await backend.peek([teamItem('small', 40)]))[0]!.heldMicros, 0);
  });

  it('caps a whole answer that sets no maximum at the reserved default; streams and explicit maxima are left alone', async () => {
    const { stage } = setup([rule({ amountMicros: 1_000 })], undefined, 10);
    const whole = ctx({ max_tokens: undefined });
    await stage.onRequest!(whole);
    assert.equal((whole.request as { body: { max_completion_tokens?: number } }).body.max_completion_tokens, 10);
    const stream = ctx({ max_tokens: undefined, stream: true });
    await stage.onRequest!(stream);
    assert.equal(
      (stream.request as { body: { max_completion_tokens?: number } }).body.max_completion_tokens,
      undefined,
    );
    const explicit = ctx({ max_tokens: 3 });
    await stage.onRequest!(explicit);
    assert.deepEqual(
      [
        (explicit.request as { body: { max_tokens?: number; max_completion_tokens?: number } }).body.max_tokens,
        (explicit.request as { body: { max_completion_tokens?: number } }).body.max_completion_tokens,
      ],
      [3, undefined],
    );
  });

  it('releases the reservation when the request fails before any output (errors, refusals by later stages)', async () => {
    const { stage, backend } = setup([rule({})]);
    const c = ctx();
    await stage.onRequest!(c);
    c.outcome.attempts = 1;
    await stage.onFinish!(c);
    assert.deepEqual((await backend.peek([teamItem()]))[0], {
      allowed: true,
      spentMicros: 0,
      heldMicros: 0,
      limitMicros: 100,
    });
  });

  it('cuts a stream that outgrows the budget with budget.exceeded (rendered per dialect) and charges what was relayed', async () => {
    // No max_tokens: 10 default tokens reserved (47 µ$ of 61).
    const { stage, backend } = setup([rule({ amountMicros: 61 })]);
    const c = ctx({ max_tokens: undefined, stream: true });
    await stage.onRequest!(c);
    c.outcome.target = target;
    c.response = { kind: 'chat-stream', stream: chunks(Array.from({ length: 40 }, () => chunk('abcd'))) };
    await stage.onResponse!(c);
    let relayed = 0;
    const err = await refusedWith(
      (async () => {
        for await (const _ of (c.response as { stream: AsyncIterable<ChatChunk> }).stream) relayed++;
      })(),
    );
    assert.equal(err.code, 'budget.exceeded');
    assert.ok(relayed >= 10 && relayed < 40, `cut after ${relayed} chunks`);
    const m = c.outcome.metered!;
    assert.equal(m.estimated, true);
    assert.equal(
      m.usage?.completion_tokens,
      relayed + 1,
      'the chunk that passed the budget was generated, so it is charged',
    );
    const [st] = await backend.peek([teamItem('b', 61)]);
    assert.deepEqual([st!.spentMicros, st!.heldMicros], [m.costMicros, 0]);
    assert.equal(messagesStreamErrorEvent(err).data.error.type, 'billing_error');
  });

  it('a stream within its max_tokens is never cut, whatever the character count suggests', async () => {
    const { stage } = setup([rule({ amountMicros: 47 })]);
    const c = ctx({ max_tokens: 10 });
    await stage.onRequest!(c);
    c.outcome.target = target;
    c.response = {
      kind: 'chat-stream',
      stream: chunks([
        ...Array.from({ length: 10 }, () => chunk('abcdefghijklmnop')),
        chunk('', { prompt_tokens: 6, completion_tokens: 10, total_tokens: 16 }),
      ]),
    };
    await stage.onResponse!(c);
    for await (const _ of (c.response as { stream: AsyncIterable<ChatChunk> }).stream) {
      /* drain */
    }
    assert.deepEqual([c.outcome.metered?.costMicros, c.outcome.metered?.estimated], [26, false]);
  });

  it('raises budget.threshold once per threshold with the scope, spend and limit', async () => {
    const { stage, events } = setup([rule({ alertAtPercent: [10, 50] })]);
    for (let i = 0; i < 2; i++) {
      const c = ctx();
      await stage.onRequest!(c);
      c.outcome.target = target;
      // 6 prompt + 3 completion tokens = 12 µ$ of 100: the first crosses 10 %, the second (24 %) crosses nothing new.
      c.response = {
        kind: 'chat',
        body: {
          id: 'x',
          object: 'chat.completion',
          created: 0,
          model: 'gpt',
          choices: [],
          usage: { prompt_tokens: 6, completion_tokens: 3, total_tokens: 9 },
        },
      } as never;
      await stage.onResponse!(c);
    }
    assert.deepEqual(
      events.map((e) => [
        e.type,
        e.detail?.['percent'],
        e.detail?.['scope'],
        e.detail?.['scopeSubject'],
        e.detail?.['spentUsd'],
        e.detail?.['limitUsd'],
        e.severity,
        e.tenantId,
      ]),
      [['budget.threshold', 10, 'team', 'red', '0.000012', '0.000100', 'warning', 'acme']],
    );
  });

  it('fails closed: an unpriced model (unless opted out) and an unreachable backend are refused', async () => {
    const strict = setup([rule({})]);
    const err = await refusedWith(strict.stage.onRequest!(ctx({ model: 'odd' })));
    assert.deepEqual([err.code, err.status], ['budget.unpriced_model', 403]);
    const lenient = setup([rule({ unpriced: 'allow' })]);
    await lenient.stage.onRequest!(ctx({ model: 'odd' }));

    const broken: BudgetBackend = {
      kind: 'broken',
      reserve: async () => {
        throw new BudgetBackendError('down');
      },
      extend: async () => {
        throw new BudgetBackendError('down');
      },
      settle: async () => {
        throw new BudgetBackendError('down');
      },
      peek: async () => {
        throw new BudgetBackendError('down');
      },
      close: async () => {},
    };
    const down = await refusedWith(setup([rule({})], broken).stage.onRequest!(ctx()));
    assert.deepEqual([down.code, down.status], ['budget.backend_unavailable', 503]);
  });

  it('applies a rule only to its model, its subject and callers that have the scope', async () => {
    const { stage, backend } = setup([
      rule({ name: 'other-team', subject: 'blue' }),
      rule({ name: 'claude-only', model: 'claude*' }),
      rule({ name: 'users', scope: 'user' }),
    ]);
    const c = ctx();
    await stage.onRequest!(c);
    const [blue] = await backend.peek([{ ...teamItem('other-team'), key: 'other-team/20260304T000000Z/blue' }]);
    assert.equal(blue!.heldMicros, 0);
    const [user] = await backend.peek([
      { ...teamItem('users'), key: `users/20260304T000000Z/${encodeURIComponent('https://idp alice')}` },
    ]);
    assert.equal(user!.heldMicros, 47, 'users are counted per issuer and subject');
  });
});
