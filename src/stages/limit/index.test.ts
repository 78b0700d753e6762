import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Caller, newOutcome, type RequestContext } from '../../core/context.ts';
import { type GatewayError, isGatewayError } from '../../errors/gateway-error.ts';
import type { LimitRuleConfig, LimitsConfig } from '../../limits/config-types.ts';
import { type LimitBackend, LimitBackendError } from '../../limits/limit-backend.ts';
import { createMemoryBackend } from '../../limits/memory/memory-backend.ts';
import { silentLogger } from '../../observability/logger.ts';
import type { ChatChunk } from '../../providers/canonical.ts';
import { createLimitStage } from './index.ts';

const caller: Caller = {
  kind: 'api_key',
  keyId: 'k1',
  keyPrefix: 'pcl_ab',
  tenantId: 'acme',
  label: 't',
  allowedModels: ['*'],
};
let n = 0;

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
      body: { model: 'gpt', messages: [{ role: 'user', content: 'hi' }], max_tokens: 94, ...body },
    },
    surfaceRequest: undefined,
    route: undefined,
    response: undefined,
    outcome: newOutcome(),
  };
}

const rule = (r: Partial<LimitRuleConfig>): LimitRuleConfig => ({
  id: 'key',
  scope: 'key',
  model: undefined,
  requestsPerSecond: undefined,
  requestsPerMinute: undefined,
  burst: undefined,
  tokensPerMinute: undefined,
  concurrent: undefined,
  ...r,
});
const config = (rules: LimitRuleConfig[]): LimitsConfig => ({
  backend: 'memory',
  redis: undefined,
  onBackendError: 'fail_closed',
  defaultMaxTokens: 1024,
  leaseTtlMs: 30_000,
  rules,
});

async function refusedWith(p: Promise<unknown> | unknown): Promise<GatewayError> {
  try {
    await p;
  } catch (err) {
    if (isGatewayError(err)) return err;
    throw err;
  }
  assert.fail('expected a refusal');
}

describe('limit stage', () => {
  it('gives the concurrency slot back when a later check (tokens) refuses', async () => {
    const backend = createMemoryBackend({ sweepIntervalMs: 0 });
    // Each request estimates 2 ("user" + "hi" = 6 chars / 4) + 4 + 94 = 100 tokens, of a 150-token minute.
    const stage = createLimitStage({
      config: config([rule({ concurrent: 5, tokensPerMinute: 150 })]),
      backend,
      models: new Map(),
    });
    const first = ctx();
    await stage.onRequest!(first);
    const err = await refusedWith(stage.onRequest!(ctx()));
    assert.equal(err.code, 'limit.tokens');
    assert.equal(err.status, 429);
    const slots = await backend.acquire([{ key: 'key/concurrent:k1', max: 2 }], 'probe', 1000);
    assert.equal(slots.items[0]?.inUse, 2, 'only the first request and the probe hold slots');
    await backend.close();
  });

  it('refunds the whole reservation when the request never reached a provider', async () => {
    const backend = createMemoryBackend({ sweepIntervalMs: 0 });
    const stage = createLimitStage({ config: config([rule({ tokensPerMinute: 150 })]), backend, models: new Map() });
    const refusedLater = ctx();
    await stage.onRequest!(refusedLater);
    await stage.onFinish!(refusedLater); // e.g. route refused it: no attempt, no response
    await stage.onRequest!(ctx()); // fits again
    await backend.close();
  });

  it('settles a stream with its reported usage before the stream ends, and frees slots', async () => {
    const backend = createMemoryBackend({ sweepIntervalMs: 0 });
    const stage = createLimitStage({
      config: config([rule({ tokensPerMinute: 1000, concurrent: 1 })]),
      backend,
      models: new Map(),
    });
    const c = ctx();
    await stage.onRequest!(c);
    async function* upstream(): AsyncGenerator<ChatChunk> {
      yield {
        id: 'c',
        object: 'chat.completion.chunk',
        created: 0,
        model: 'gpt',
        choices: [],
        usage: { prompt_tokens: 450, completion_tokens: 500, total_tokens: 950 },
      };
    }
    c.response = { kind: 'chat-stream', stream: upstream() };
    await stage.onResponse!(c);
    for await (const _ of (c.response as { stream: AsyncIterable<ChatChunk> }).stream) {
      /* client reads */
    }
    // 950 charged: a 100-token request no longer fits, and the slot is free.
    assert.equal((await refusedWith(stage.onRequest!(ctx()))).code, 'limit.tokens');
    assert.equal((await backend.acquire([{ key: 'key/concurrent:k1', max: 1 }], 'probe', 1000)).allowed, true);
    await stage.onFinish!(c); // nothing left to do; does not double-settle
    await backend.close();
  });

  it('adds RateLimit fields for the tightest request rate to successful responses', async () => {
    const backend = createMemoryBackend({ sweepIntervalMs: 0 });
    const stage = createLimitStage({
      config: config([
        rule({ requestsPerMinute: 600, burst: 60 }),
        rule({ id: 'tenant', scope: 'tenant', requestsPerSecond: 2, burst: 2 }),
      ]),
      backend,
      models: new Map(),
    });
    const c = ctx();
    await stage.onRequest!(c);
    assert.deepEqual(c.responseHeaders, {
      'ratelimit-policy': '"tenant-rps";q=2;w=1',
      ratelimit: '"tenant-rps";r=1;t=1',
    });
    await backend.close();
  });

  it('fails closed with 503 limit.backend_unavailable when the backend cannot answer', async () => {
    const broken: LimitBackend = {
      kind: 'broken',
      admit: async () => {
        throw new LimitBackendError('down');
      },
      finish: async () => {
        throw new LimitBackendError('down');
      },
      take: async () => {
        throw new LimitBackendError('down');
      },
      settle: async () => {
        throw new LimitBackendError('down');
      },
      acquire: async () => {
        throw new LimitBackendError('down');
      },
      renew: async () => {
        throw new LimitBackendError('down');
      },
      release: async () => {
        throw new LimitBackendError('down');
      },
      close: async () => {},
    };
    const stage = createLimitStage({
      config: config([rule({ requestsPerSecond: 10, concurrent: 2 })]),
      backend: broken,
      models: new Map(),
    });
    const err = await refusedWith(stage.onRequest!(ctx()));
    assert.equal(err.code, 'limit.backend_unavailable');
    assert.equal(err.status, 503);
    assert.match(err.message, /rate limiter is unavailable/);
  });

  it('does not apply to model listings and refuses to start without rules', async () => {
    const stage = createLimitStage({
      config: config([rule({ requestsPerSecond: 1, burst: 1 })]),
      backend: createMemoryBackend({ sweepIntervalMs: 0 }),
      models: new Map(),
    });
    const listing = {
      ...ctx(),
      operation: 'models' as const,
      request: { operation: 'models' as const, modelId: undefined },
    };
    for (let i = 0; i < 5; i++) await stage.onRequest!(listing);
    assert.throws(() =>
      createLimitStage({ config: config([]), backend: createMemoryBackend({ sweepIntervalMs: 0 }), models: new Map() }),
    );
  });
});
