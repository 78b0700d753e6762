/**
 * Metrics, trace context and log fields through the real gateway process: traffic of every
 * kind (served, streamed, refused, rate limited upstream, breaker opened), then a scrape of the
 * separate metrics listener; the listener's protection; the traceparent the provider receives.
 */

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import OpenAI from 'openai';
import { type RunningGateway, STANDARD_MODELS, startGateway } from './helpers/gateway.ts';

const METRICS_TOKEN = 'it-metrics-token-9f8e7d6c5b4a';
const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_PARENT = 'b7ad6b7169203331';

const MODELS = `${STANDARD_MODELS}  fragile:
    retry: { max_attempts: 1 }
    circuit_breaker: { failure_threshold: 1, open_ms: 600000 }
    targets: [ { provider: mistral, model: mistral-small-latest } ]
`;

let gw: RunningGateway;
let key: string;
let metricsUrl: string;

type Recorded = { provider: string; model?: string; headers: Record<string, string> };

before(async () => {
  process.env.PORTCULLIS_IT_METRICS_TOKEN = METRICS_TOKEN;
  gw = await startGateway({
    modelsYaml: MODELS,
    serverYaml:
      'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\n' +
      'metrics:\n  host: 127.0.0.1\n  port: 0\n  bearer_token: "${PORTCULLIS_IT_METRICS_TOKEN}"\n',
  });
  key = await gw.createKey();
  const line = gw
    .output()
    .split('\n')
    .find((l) => l.includes('"metrics listening"'));
  assert.ok(line, `no "metrics listening" line in:\n${gw.output()}`);
  metricsUrl = (JSON.parse(line) as { url: string }).url;
});
after(async () => {
  await gw.stop();
});
afterEach(async () => {
  await gw.mockControl('/__mock/faults', 'DELETE');
  await gw.mockControl('/__mock/requests', 'DELETE');
});

function chat(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function scrape(): Promise<string> {
  const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  assert.equal(res.status, 200);
  return res.text();
}

/** The value of one series, or undefined when it does not exist. */
function value(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function recorded(): Promise<Recorded[]> {
  return ((await gw.mockControl('/__mock/requests', 'GET')) as { requests: Recorded[] }).requests;
}

test('counters, histograms, tokens, auth failures and breaker state after real traffic', async () => {
  const hello = { model: 'gpt', messages: [{ role: 'user' as const, content: 'hello metrics' }] };
  assert.equal((await chat(hello)).status, 200);
  assert.equal((await chat(hello)).status, 200);

  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  const stream = await client.chat.completions.create({
    ...hello,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'hello metrics');

  assert.equal((await chat(hello, { authorization: 'Bearer pcl_not-a-real-key' })).status, 401);
  assert.equal((await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: '{}' })).status, 401);
  assert.equal((await chat({ ...hello, model: 'attacker-chosen-model-name' })).status, 404);
  assert.equal((await fetch(`${gw.url}/v1/attacker/chosen/path`)).status, 404);

  await gw.mockControl('/__mock/faults', 'POST', { provider: 'openai', status: 429, times: 10 });
  assert.equal((await chat(hello)).status, 429);
  await gw.mockControl('/__mock/faults', 'DELETE');

  await gw.mockControl('/__mock/faults', 'POST', { provider: 'mistral', status: 503, times: 1 });
  assert.equal((await chat({ ...hello, model: 'fragile' })).status, 503);

  const m = await scrape();
  const req = (labels: string) => value(m, `portcullis_http_requests_total{${labels}}`);
  assert.equal(req('route="/v1/chat/completions",model="gpt",provider="openai",status_class="2xx",code="none"'), 3);
  assert.equal(
    req('route="/v1/chat/completions",model="none",provider="none",status_class="4xx",code="auth.invalid_key"'),
    1,
  );
  assert.equal(
    req('route="/v1/chat/completions",model="none",provider="none",status_class="4xx",code="auth.missing_credentials"'),
    1,
  );
  assert.equal(
    req('route="/v1/chat/completions",model="none",provider="none",status_class="4xx",code="model.not_found"'),
    1,
  );
  assert.equal(req('route="unmatched",model="none",provider="none",status_class="4xx",code="request.not_found"'), 1);
  assert.equal(
    req('route="/v1/chat/completions",model="gpt",provider="openai",status_class="4xx",code="upstream.rate_limited"'),
    1,
  );
  assert.equal(
    req(
      'route="/v1/chat/completions",model="fragile",provider="mistral",status_class="5xx",code="upstream.overloaded"',
    ),
    1,
  );

  assert.equal(
    value(
      m,
      'portcullis_http_request_duration_seconds_count{route="/v1/chat/completions",model="gpt",status_class="2xx"}',
    ),
    3,
  );
  assert.equal(
    value(m, 'portcullis_upstream_attempts_total{provider="openai",model="gpt-4o-mini",result="success"}'),
    3,
  );
  assert.equal(
    value(m, 'portcullis_upstream_attempts_total{provider="openai",model="gpt-4o-mini",result="rate_limited"}'),
    2,
  );
  assert.equal(
    value(m, 'portcullis_upstream_attempt_duration_seconds_count{provider="openai",model="gpt-4o-mini"}'),
    5,
  );
  assert.ok((value(m, 'portcullis_tokens_total{model="gpt",provider="openai",direction="prompt"}') ?? 0) > 0);
  assert.ok((value(m, 'portcullis_tokens_total{model="gpt",provider="openai",direction="completion"}') ?? 0) > 0);
  assert.equal(value(m, 'portcullis_auth_failures_total{reason="malformed"}'), 1);
  assert.equal(value(m, 'portcullis_auth_failures_total{reason="missing_credentials"}'), 1);
  assert.equal(
    value(m, 'portcullis_stream_time_to_first_byte_seconds_count{route="/v1/chat/completions",model="gpt"}'),
    1,
  );
  assert.equal(value(m, 'portcullis_circuit_breaker_state{provider="mistral",model="mistral-small-latest"}'), 2);
  assert.equal(value(m, 'portcullis_circuit_breaker_state{provider="openai",model="gpt-4o-mini"}'), 0);
  assert.equal(value(m, 'portcullis_in_flight_requests'), 0);
  assert.ok(value(m, 'nodejs_eventloop_lag_p99_seconds') !== undefined);
  assert.ok(value(m, 'process_cpu_seconds_total') !== undefined);
  // Nothing a client typed, and no key material, becomes a label.
  assert.doesNotMatch(m, /attacker|pcl_/);
  assert.doesNotMatch(m, new RegExp(key.slice(0, 12)));
});

test('/metrics is not served on the public port', async () => {
  const res = await fetch(`${gw.url}/metrics`);
  assert.equal(res.status, 404);
  assert.doesNotMatch(await res.text(), /portcullis_http_requests_total/);
  assert.notEqual(new URL(metricsUrl).port, new URL(gw.url).port);
});

test('the metrics listener enforces its bearer token', async () => {
  assert.equal((await fetch(metricsUrl)).status, 401);
  assert.equal(
    (await fetch(metricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}x` } })).status,
    401,
  );
  assert.equal(
    (await fetch(metricsUrl, { headers: { authorization: `Bearer ${key}` } })).status,
    401,
    'an API key is not a metrics token',
  );
  assert.equal((await fetch(metricsUrl.replace('/metrics', '/v1/chat/completions'), { method: 'POST' })).status, 404);
  assert.equal(
    (await fetch(metricsUrl, { method: 'POST', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status,
    405,
  );
});

test('the provider receives the client trace id with a new parent id on every attempt; logs carry the trace id', async () => {
  await gw.mockControl('/__mock/faults', 'POST', { provider: 'openai', status: 429, times: 1 });
  const res = await chat(
    { model: 'gpt', messages: [{ role: 'user', content: 'traced' }] },
    { traceparent: `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01` },
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('traceparent'), null, 'traceparent is a request header; it is not echoed');
  const calls = await recorded();
  assert.equal(calls.length, 2, 'one rate-limited attempt, one retry');
  const parents = calls.map((c) => {
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(c.headers.traceparent ?? '');
    assert.ok(m, `bad traceparent sent upstream: ${c.headers.traceparent}`);
    assert.equal(m[1], CLIENT_TRACE);
    return m[2];
  });
  assert.notEqual(parents[0], CLIENT_PARENT);
  assert.notEqual(parents[0], parents[1]);

  const requestId = res.headers.get('x-request-id');
  const lines = () =>
    gw
      .output()
      .split('\n')
      .filter((l) => l.includes(requestId!))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  await waitFor(() => lines().some((l) => l.msg === 'request'));
  const access = lines();
  assert.ok(
    access.some((l) => l.msg === 'request' && l.traceId === CLIENT_TRACE),
    'access log line has the trace id',
  );
  assert.ok(
    access.some((l) => l.msg === 'upstream attempt failed' && l.traceId === CLIENT_TRACE),
    'upstream failure log has the trace id',
  );
});

test('an invalid traceparent is ignored and a new trace is started', async () => {
  for (const bad of [
    `00-${CLIENT_TRACE.toUpperCase()}-${CLIENT_PARENT}-01`,
    `00-${'0'.repeat(32)}-${CLIENT_PARENT}-01`,
    'garbage',
  ]) {
    await gw.mockControl('/__mock/requests', 'DELETE');
    assert.equal(
      (await chat({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] }, { traceparent: bad })).status,
      200,
    );
    const [call] = await recorded();
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-00$/.exec(call?.headers.traceparent ?? '');
    assert.ok(m, `bad traceparent sent upstream: ${call?.headers.traceparent}`);
    assert.notEqual(m[1], CLIENT_TRACE);
    assert.notEqual(m[1], '0'.repeat(32));
  }
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(cond(), 'condition not met within 2 s');
}
