import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../config/load.ts';
import { type BreakerStateName, createGatewayMetrics, HISTOGRAM_BATCH } from './gateway-metrics.ts';

const config = parseConfig(
  `
providers:
  openai: { kind: openai, base_url: "https://api.openai.com/v1" }
  claude: { kind: anthropic, base_url: "https://api.anthropic.com/v1" }
models:
  gpt: { targets: [ { provider: openai, model: gpt-4o-mini } ] }
  smart:
    targets:
      - { provider: claude, model: claude-sonnet-4-5 }
      - { provider: openai, model: gpt-4o-mini, priority: 1 }
`,
  '<test>',
  {},
);

function make(breakers: Array<{ provider: string; model: string; state: BreakerStateName }> = [], inFlight = 0) {
  return createGatewayMetrics({
    config,
    breakerStates: () => breakers,
    inFlight: () => inFlight,
    defaultMetrics: false,
  });
}

async function series(metrics: ReturnType<typeof make>, name: string): Promise<string[]> {
  const { body } = await metrics.scrape();
  return body.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

const ok = {
  route: '/v1/chat/completions',
  provider: 'openai',
  status: 200,
  aborted: false,
  code: undefined,
  durationS: 0.05,
};

test('requests are counted by route, model, provider, status class and code', async () => {
  const m = make();
  m.observeRequest({ ...ok, model: 'gpt' });
  m.observeRequest({ ...ok, model: 'gpt' });
  m.observeRequest({ ...ok, model: 'gpt', status: 429, code: 'upstream.rate_limited' });
  const lines = await series(m, 'portcullis_http_requests_total');
  assert.ok(
    lines.includes(
      'portcullis_http_requests_total{route="/v1/chat/completions",model="gpt",provider="openai",status_class="2xx",code="none"} 2',
    ),
    lines.join('\n'),
  );
  assert.ok(
    lines.includes(
      'portcullis_http_requests_total{route="/v1/chat/completions",model="gpt",provider="openai",status_class="4xx",code="upstream.rate_limited"} 1',
    ),
  );
  const count = await series(m, 'portcullis_http_request_duration_seconds_count');
  assert.ok(
    count.includes(
      'portcullis_http_request_duration_seconds_count{route="/v1/chat/completions",model="gpt",status_class="2xx"} 2',
    ),
  );
});

test('counts kept between scrapes: each scrape shows every increment before it, none twice', async () => {
  const m = make();
  const line = (n: number) =>
    `portcullis_http_requests_total{route="/v1/chat/completions",model="gpt",provider="openai",status_class="2xx",code="none"} ${n}`;
  const tokens = (n: number) => `portcullis_tokens_total{model="gpt",provider="openai",direction="prompt"} ${n}`;
  m.observeRequest({ ...ok, model: 'gpt' });
  m.observeTokens('gpt', 'openai', 7, 0);
  assert.ok((await series(m, 'portcullis_http_requests_total')).includes(line(1)));
  assert.ok((await series(m, 'portcullis_http_requests_total')).includes(line(1)), 'a second scrape adds nothing');
  m.observeRequest({ ...ok, model: 'gpt' });
  m.observeRequest({ ...ok, model: 'gpt' });
  m.observeTokens('gpt', 'openai', 5, 0);
  assert.ok((await series(m, 'portcullis_http_requests_total')).includes(line(3)));
  assert.ok((await series(m, 'portcullis_tokens_total')).includes(tokens(12)));
  // Counts the observers guard against are refused here too, and poison nothing.
  m.observeTokens('gpt', 'openai', Number.NaN, -3);
  m.observeTokens('gpt', 'openai', Number.POSITIVE_INFINITY, 0);
  assert.ok((await series(m, 'portcullis_tokens_total')).includes(tokens(12)));
});

test('durations handed over in batches: each scrape shows every observation before it, exactly, none twice', async () => {
  const m = make();
  const labels = '{route="/v1/chat/completions",model="gpt",status_class="2xx"}';
  const read = async () => {
    const body = (await m.scrape()).body.split('\n');
    const value = (name: string) => Number(body.find((l) => l.startsWith(`${name}${labels}`))?.split(' ')[1]);
    const le = (bound: string) =>
      Number(
        body
          .find((l) =>
            l.startsWith(
              `portcullis_http_request_duration_seconds_bucket{le="${bound}",route="/v1/chat/completions",model="gpt",status_class="2xx"}`,
            ),
          )
          ?.split(' ')[1],
      );
    return {
      count: value('portcullis_http_request_duration_seconds_count'),
      sum: value('portcullis_http_request_duration_seconds_sum'),
      le005: le('0.005'),
      le1: le('1'),
    };
  };
  // Across a batch boundary (HISTOGRAM_BATCH), then a partial batch, then one more after a scrape.
  const n = HISTOGRAM_BATCH + 7;
  // A second series interleaved: the batch is shared by every label combination.
  let failed = 0;
  for (let i = 0; i < n; i++) {
    m.observeRequest({ ...ok, model: 'gpt', durationS: i % 2 === 0 ? 0.004 : 0.75 });
    if (i % 3 === 0) {
      m.observeRequest({ ...ok, model: 'gpt', status: 502, code: 'upstream.unavailable', durationS: 0.02 });
      failed++;
    }
  }
  const first = await read();
  const failedCount = (await series(m, 'portcullis_http_request_duration_seconds_count')).find((l) =>
    l.includes('status_class="5xx"'),
  );
  assert.equal(Number(failedCount?.split(' ')[1]), failed);
  assert.equal(first.count, n);
  assert.equal(first.le005, Math.ceil(n / 2));
  assert.equal(first.le1, n);
  assert.ok(Math.abs(first.sum - (Math.ceil(n / 2) * 0.004 + Math.floor(n / 2) * 0.75)) < 1e-9, String(first.sum));
  assert.deepEqual(await read(), first, 'a second scrape adds nothing');
  m.observeRequest({ ...ok, model: 'gpt', durationS: 2 });
  const second = await read();
  assert.equal(second.count, n + 1);
  assert.equal(second.le1, n);
  // A value prom-client would refuse is refused before it is kept, and poisons nothing.
  assert.throws(() => m.observeAttempt('openai', 'gpt-4o-mini', 'ok', Number.NaN), /not a histogram observation/);
  m.observeAttempt('openai', 'gpt-4o-mini', 'ok', 0.02);
  const attempts = await series(m, 'portcullis_upstream_attempt_duration_seconds_count');
  assert.ok(
    attempts.includes('portcullis_upstream_attempt_duration_seconds_count{provider="openai",model="gpt-4o-mini"} 1'),
    attempts.join('\n'),
  );
});

test('a model, provider, code or route the config does not know never creates a series of its own', async () => {
  const m = make();
  for (let i = 0; i < 50; i++) {
    m.observeRequest({
      route: `/v1/evil/${i}`,
      model: `client-typed-model-${i}`,
      provider: `prov-${i}`,
      status: 404,
      aborted: false,
      code: `made.up.${i}`,
      durationS: 0.001,
    });
    m.observeTokens(`client-typed-model-${i}`, 'openai', 10, 5);
    m.observeAttempt(`prov-${i}`, `model-${i}`, `weird-${i}`, 0.01);
    m.observeAuthFailure(`reason-${i}`);
  }
  const requests = await series(m, 'portcullis_http_requests_total');
  assert.deepEqual(requests, [
    'portcullis_http_requests_total{route="other",model="other",provider="other",status_class="4xx",code="other"} 50',
  ]);
  assert.deepEqual(await series(m, 'portcullis_tokens_total'), [
    'portcullis_tokens_total{model="other",provider="openai",direction="prompt"} 500',
    'portcullis_tokens_total{model="other",provider="openai",direction="completion"} 250',
  ]);
  assert.deepEqual(await series(m, 'portcullis_upstream_attempts_total'), [
    'portcullis_upstream_attempts_total{provider="other",model="other",result="other"} 50',
  ]);
  assert.deepEqual(await series(m, 'portcullis_auth_failures_total'), [
    'portcullis_auth_failures_total{reason="other"} 50',
  ]);
  const { body } = await m.scrape();
  assert.doesNotMatch(body, /client-typed|evil|made\.up|prov-|reason-/);
});

test('a model and provider added by a live policy version count under their own names once admitted', async () => {
  const m = make();
  const obs = { ...ok, model: 'fresh', provider: 'mistral' };
  m.observeRequest(obs);
  m.labels.admit(
    parseConfig(
      `
providers:
  mistral: { kind: mistral, base_url: "https://api.mistral.ai/v1" }
models:
  fresh: { targets: [ { provider: mistral, model: mistral-small-latest } ] }
`,
      '<test>',
      {},
    ),
  );
  m.observeRequest(obs);
  m.observeAttempt('mistral', 'mistral-small-latest', 'success', 0.01);
  // Names of the earlier version stay admitted: a rollback does not fold them into "other".
  m.observeRequest({ ...ok, model: 'gpt' });
  const lines = await series(m, 'portcullis_http_requests_total');
  assert.ok(
    lines.some((l) => l.includes('model="other",provider="other"') && l.endsWith(' 1')),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => l.includes('model="fresh",provider="mistral"') && l.endsWith(' 1')),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => l.includes('model="gpt",provider="openai"')),
    lines.join('\n'),
  );
  assert.deepEqual(await series(m, 'portcullis_upstream_attempts_total'), [
    'portcullis_upstream_attempts_total{provider="mistral",model="mistral-small-latest",result="success"} 1',
  ]);
});

test('missing model or provider is "none"; aborted requests have their own status class', async () => {
  const m = make();
  m.observeRequest({ ...ok, model: undefined, provider: undefined, status: 401, code: 'auth.invalid_key' });
  m.observeRequest({ ...ok, model: 'smart', provider: 'claude', status: 200, aborted: true });
  const lines = await series(m, 'portcullis_http_requests_total');
  assert.ok(
    lines.includes(
      'portcullis_http_requests_total{route="/v1/chat/completions",model="none",provider="none",status_class="4xx",code="auth.invalid_key"} 1',
    ),
  );
  assert.ok(
    lines.includes(
      'portcullis_http_requests_total{route="/v1/chat/completions",model="smart",provider="claude",status_class="aborted",code="none"} 1',
    ),
  );
});

test('upstream attempts, tokens, auth failures and time to first byte', async () => {
  const m = make();
  m.observeAttempt('openai', 'gpt-4o-mini', 'rate_limited', 0.2);
  m.observeAttempt('openai', 'gpt-4o-mini', 'success', 0.3);
  m.observeTokens('gpt', 'openai', 12, 0);
  m.observeAuthFailure('revoked');
  m.observeStreamFirstByte('/v1/messages', 'smart', 0.02);
  assert.ok(
    (await series(m, 'portcullis_upstream_attempts_total')).includes(
      'portcullis_upstream_attempts_total{provider="openai",model="gpt-4o-mini",result="rate_limited"} 1',
    ),
  );
  assert.ok(
    (await series(m, 'portcullis_upstream_attempt_duration_seconds_count')).includes(
      'portcullis_upstream_attempt_duration_seconds_count{provider="openai",model="gpt-4o-mini"} 2',
    ),
  );
  assert.deepEqual(await series(m, 'portcullis_tokens_total'), [
    'portcullis_tokens_total{model="gpt",provider="openai",direction="prompt"} 12',
  ]);
  assert.deepEqual(await series(m, 'portcullis_auth_failures_total'), [
    'portcullis_auth_failures_total{reason="revoked"} 1',
  ]);
  assert.ok(
    (await series(m, 'portcullis_stream_time_to_first_byte_seconds_count')).includes(
      'portcullis_stream_time_to_first_byte_seconds_count{route="/v1/messages",model="smart"} 1',
    ),
  );
});

test('circuit breakers: every configured target is listed, closed unless the upstream says otherwise', async () => {
  const breakers: Array<{ provider: string; model: string; state: BreakerStateName }> = [];
  const m = make(breakers, 3);
  assert.deepEqual((await series(m, 'portcullis_circuit_breaker_state')).sort(), [
    'portcullis_circuit_breaker_state{provider="claude",model="claude-sonnet-4-5"} 0',
    'portcullis_circuit_breaker_state{provider="openai",model="gpt-4o-mini"} 0',
  ]);
  breakers.push(
    { provider: 'claude', model: 'claude-sonnet-4-5', state: 'open' },
    { provider: 'openai', model: 'gpt-4o-mini', state: 'half-open' },
  );
  assert.deepEqual((await series(m, 'portcullis_circuit_breaker_state')).sort(), [
    'portcullis_circuit_breaker_state{provider="claude",model="claude-sonnet-4-5"} 2',
    'portcullis_circuit_breaker_state{provider="openai",model="gpt-4o-mini"} 1',
  ]);
  breakers.length = 0;
  breakers.push({ provider: 'claude', model: 'claude-sonnet-4-5', state: 'closed' });
  assert.ok(
    (await series(m, 'portcullis_circuit_breaker_state')).includes(
      'portcullis_circuit_breaker_state{provider="claude",model="claude-sonnet-4-5"} 0',
    ),
  );
  assert.deepEqual(await series(m, 'portcullis_in_flight_requests'), ['portcullis_in_flight_requests 3']);
});

test('each gateway has its own registry, with default process metrics when asked', async () => {
  const a = createGatewayMetrics({ config, breakerStates: () => [], inFlight: () => 0 });
  const b = createGatewayMetrics({ config, breakerStates: () => [], inFlight: () => 0 });
  a.observeAuthFailure('unknown');
  assert.deepEqual(await series(b, 'portcullis_auth_failures_total'), []);
  const { body, contentType } = await a.scrape();
  assert.match(contentType, /^text\/plain/);
  assert.match(body, /^process_cpu_seconds_total /m);
  assert.match(body, /^nodejs_eventloop_lag_p99_seconds /m);
});
