import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../config/load.ts';
import { newOutcome, type RequestContext } from '../../core/context.ts';
import { silentLogger } from '../logger.ts';
import { createGatewayMetrics, type GatewayMetrics } from './gateway-metrics.ts';
import { createMetricsObservers } from './request-observer.ts';

const config = parseConfig(
  `
providers:
  openai: { kind: openai, base_url: "https://api.openai.com/v1" }
models:
  gpt: { targets: [ { provider: openai, model: gpt-4o-mini } ] }
`,
  '<test>',
  {},
);

function ctxWith(fields: Partial<RequestContext>): RequestContext {
  return {
    startedAt: performance.now(),
    outcome: newOutcome(),
    route: undefined,
    response: undefined,
    ...fields,
  } as RequestContext;
}

async function lines(m: GatewayMetrics, prefix: string): Promise<string[]> {
  return (await m.scrape()).body.split('\n').filter((l) => l.startsWith(prefix));
}

test('the model a client asked for is not a label unless the route stage resolved it from config', async () => {
  const m = createGatewayMetrics({ config, breakerStates: () => [], inFlight: () => 0, defaultMetrics: false });
  const obs = createMetricsObservers(m, silentLogger());
  const refused = ctxWith({
    request: {
      operation: 'chat',
      body: { model: 'drop table users', messages: [] },
    } as unknown as RequestContext['request'],
  });
  refused.outcome.status = 404;
  refused.outcome.errorCode = 'model.not_found';
  obs.request.requestEnded(refused, '/v1/chat/completions');
  const served = ctxWith({ route: { publicModel: 'gpt', config: config.models.get('gpt')! } });
  Object.assign(served.outcome, {
    status: 200,
    target: config.models.get('gpt')!.targets[0],
    usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
  });
  obs.request.requestEnded(served, '/v1/chat/completions');
  assert.deepEqual(await lines(m, 'portcullis_http_requests_total{'), [
    'portcullis_http_requests_total{route="/v1/chat/completions",model="none",provider="none",status_class="4xx",code="model.not_found"} 1',
    'portcullis_http_requests_total{route="/v1/chat/completions",model="gpt",provider="openai",status_class="2xx",code="none"} 1',
  ]);
  assert.deepEqual(await lines(m, 'portcullis_tokens_total{'), [
    'portcullis_tokens_total{model="gpt",provider="openai",direction="prompt"} 7',
    'portcullis_tokens_total{model="gpt",provider="openai",direction="completion"} 3',
  ]);
});

test('absurd provider token counts are ignored, not recorded or thrown', async () => {
  const m = createGatewayMetrics({ config, breakerStates: () => [], inFlight: () => 0, defaultMetrics: false });
  const obs = createMetricsObservers(m, silentLogger());
  for (const n of [-5, Number.NaN, Number.POSITIVE_INFINITY]) {
    const ctx = ctxWith({ route: { publicModel: 'gpt', config: config.models.get('gpt')! } });
    Object.assign(ctx.outcome, { status: 200, usage: { prompt_tokens: n, completion_tokens: n, total_tokens: n } });
    obs.request.requestEnded(ctx, '/v1/chat/completions');
  }
  assert.deepEqual(await lines(m, 'portcullis_tokens_total{'), []);
});

test('an observer never throws into the request path', () => {
  const broken = {
    observeRequest() {
      throw new Error('boom');
    },
    observeAttempt() {
      throw new Error('boom');
    },
    observeAuthFailure() {
      throw new Error('boom');
    },
  };
  const obs = createMetricsObservers(broken as unknown as GatewayMetrics, silentLogger());
  assert.doesNotThrow(() => obs.request.requestEnded(ctxWith({}), '/v1/chat/completions'));
  assert.doesNotThrow(() => obs.request.requestRefused('unmatched', 404, 'request.not_found', 1));
  assert.doesNotThrow(() => obs.authFailure('unknown'));
});
