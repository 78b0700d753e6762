/**
 * Fallback, retries, deadlines, upstream failures and broken streams, driven through the real
 * gateway process with faults injected into the emulator.
 */

import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import OpenAI from 'openai';
import { type RunningGateway, STANDARD_MODELS, startGateway } from './helpers/gateway.ts';

let gw: RunningGateway;
let client: OpenAI;
let key: string;

const MODELS = `${STANDARD_MODELS}  slow:
    timeout_ms: 600
    attempt_timeout_ms: 250
    retry: { max_attempts: 2, base_delay_ms: 10, max_delay_ms: 20 }
    targets: [ { provider: mistral, model: mistral-small-latest } ]
  patient:
    retry: { max_attempts: 2, base_delay_ms: 10, max_delay_ms: 20, max_retry_after_ms: 2000 }
    targets: [ { provider: openai, model: gpt-4o-mini } ]
`;

type MockRequest = { provider: string; model?: string };

before(async () => {
  gw = await startGateway({ modelsYaml: MODELS });
  key = await gw.createKey();
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
});
after(async () => {
  await gw.stop();
});
afterEach(async () => {
  await gw.mockControl('/__mock/faults', 'DELETE');
  await gw.mockControl('/__mock/requests', 'DELETE');
});

async function upstreamCalls(): Promise<MockRequest[]> {
  const r = (await gw.mockControl('/__mock/requests', 'GET')) as MockRequest[] | { requests: MockRequest[] };
  return Array.isArray(r) ? r : r.requests;
}

test('falls back to the next priority when the first target fails', async () => {
  await gw.mockControl('/__mock/faults', 'POST', { provider: 'gemini', status: 503, times: 10 });
  const r = await client.chat.completions.create({
    model: 'fallback',
    messages: [{ role: 'user', content: 'still served' }],
  });
  assert.equal(r.choices[0]!.message.content, 'still served');
  const calls = await upstreamCalls();
  assert.equal(calls[0]!.provider, 'gemini');
  assert.equal(calls.at(-1)!.provider, 'openai');
});

test('response headers name the provider and model that answered, after a fallback too', async () => {
  const first = await client.chat.completions
    .create({ model: 'fallback', messages: [{ role: 'user', content: 'first choice' }] })
    .withResponse();
  assert.equal(first.response.headers.get('x-portcullis-provider'), 'gemini');
  assert.equal(first.response.headers.get('x-portcullis-model'), 'gemini-2.5-flash');
  assert.equal(first.response.headers.get('x-portcullis-attempts'), '1');

  await gw.mockControl('/__mock/faults', 'POST', { provider: 'gemini', status: 503, times: 10 });
  const plain = await client.chat.completions
    .create({ model: 'fallback', messages: [{ role: 'user', content: 'served by the fallback' }] })
    .withResponse();
  assert.equal(plain.response.headers.get('x-portcullis-provider'), 'openai');
  assert.equal(plain.response.headers.get('x-portcullis-model'), 'gpt-4o-mini');
  assert.ok(Number(plain.response.headers.get('x-portcullis-attempts')) >= 2);

  const streamed = await client.chat.completions
    .create({ model: 'fallback', stream: true, messages: [{ role: 'user', content: 'streamed by the fallback' }] })
    .withResponse();
  for await (const _ of streamed.data) {
    /* drain */
  }
  assert.equal(streamed.response.headers.get('x-portcullis-provider'), 'openai');
  assert.equal(streamed.response.headers.get('x-portcullis-model'), 'gpt-4o-mini');

  // A refusal before any upstream call names no provider.
  const refused = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.equal(refused.status, 404);
  assert.equal(refused.headers.get('x-portcullis-provider'), null);
});

test('retries a 429 after the Retry-After the provider asked for', async () => {
  await gw.mockControl('/__mock/faults', 'POST', { provider: 'openai', status: 429, retryAfterS: 1, times: 1 });
  const started = Date.now();
  const r = await client.chat.completions.create({
    model: 'patient',
    messages: [{ role: 'user', content: 'after a wait' }],
  });
  assert.equal(r.choices[0]!.message.content, 'after a wait');
  assert.equal((await upstreamCalls()).length, 2);
  assert.ok(Date.now() - started >= 900, 'waited for Retry-After');
});

test('when every attempt is rate limited the client gets 429 with Retry-After', async () => {
  await gw.mockControl('/__mock/faults', 'POST', { provider: 'openai', status: 429, retryAfterS: 30, times: 10 });
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), '30');
  const body = (await res.json()) as { error: { code: string; type: string } };
  assert.equal(body.error.code, 'upstream.rate_limited');
  assert.equal(body.error.type, 'rate_limit_error');
});

test('a hanging provider hits the per-attempt timeout and then the route deadline', async () => {
  await gw.mockControl('/__mock/faults', 'POST', { provider: 'mistral', hangMs: 5000, times: 5 });
  const started = Date.now();
  await assert.rejects(
    client.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'x' }] }),
    (e: unknown) => e instanceof OpenAI.APIError && e.status === 504 && e.code === 'upstream.timeout',
  );
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 3000, `deadline respected (${elapsed} ms)`);
  assert.equal((await upstreamCalls()).length, 2, 'second attempt after the first timed out');
});

test('provider error bodies never reach the client', async () => {
  await gw.mockControl('/__mock/faults', 'POST', { provider: 'openai', status: 400, times: 1 });
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'upstream.rejected_request');
  assert.equal(body.error.message, 'The model provider rejected the request as invalid.');
  assert.equal(res.headers.get('x-request-id')?.length, 36);
  for (const h of res.headers.keys())
    assert.ok(!h.startsWith('x-ratelimit') && h !== 'openai-organization', `no upstream header ${h}`);
});

test('a provider refusing the gateway credential is a 502, not a client auth error', async () => {
  await gw.mockControl('/__mock/faults', 'POST', { provider: 'openai', status: 401, times: 1 });
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] }),
    (e: unknown) => e instanceof OpenAI.APIError && e.status === 502 && e.code === 'upstream.misconfigured',
  );
});

test('a stream broken mid-way ends with an error event, not a hang', async () => {
  await gw.mockControl('/__mock/faults', 'POST', { provider: 'openai', breakStreamAfterEvents: 3, times: 1 });
  const stream = await client.chat.completions.create({
    model: 'gpt',
    stream: true,
    messages: [{ role: 'user', content: 'a b c d e f g h i j k l m n o p' }],
  });
  let text = '';
  await assert.rejects(
    (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })(),
    (e: unknown) => e instanceof Error && /stream ended unexpectedly/i.test(e.message),
  );
  assert.ok(text.length < 'a b c d e f g h i j k l m n o p'.length);
  const r = await client.chat.completions.create({
    model: 'gpt',
    messages: [{ role: 'user', content: 'next one works' }],
  });
  assert.equal(r.choices[0]!.message.content, 'next one works');
});
