import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import OpenAI from 'openai';
import { gatewayError } from '../../errors/gateway-error.ts';
import type { ChatChunk, ChatResponse } from '../../providers/canonical.ts';
import { parseChatRequest } from './chat-request.ts';
import {
  chatChunkToSse,
  modelBody,
  modelsListBody,
  openAiChatBody,
  openAiErrorBody,
  openAiUsage,
  prepareChunkForClient,
  SSE_DONE,
  streamErrorEvent,
} from './render.ts';
import { jsonResponse, sdkClient, sseResponse } from './testing/sdk-harness.ts';

const chunks = JSON.parse(
  readFileSync(new URL('./fixtures/chat-stream-chunks.json', import.meta.url), 'utf8'),
) as ChatChunk[];
const contentChunks = chunks.filter((c) => c.choices.length > 0);
const usageChunk = chunks.find((c) => c.choices.length === 0);

test("error body has OpenAI's shape: message, type, param, code", () => {
  const err = gatewayError('request.invalid', {
    params: { path: 'temperature', detail: 'must be <= 2' },
    param: 'temperature',
  });
  assert.deepEqual(openAiErrorBody(err), {
    error: {
      message: 'Invalid request at temperature: must be <= 2.',
      type: 'invalid_request_error',
      param: 'temperature',
      code: 'request.invalid',
    },
  });
  assert.deepEqual(openAiErrorBody(gatewayError('upstream.rate_limited')).error, {
    message: 'The model provider is rate limiting requests. Retry later.',
    type: 'rate_limit_error',
    param: null,
    code: 'upstream.rate_limited',
  });
});

test('internal detail and causes never reach the error body', () => {
  const err = gatewayError('upstream.rejected_request', {
    internal: { providerMessage: 'Incorrect API key provided: sk-proj-SECRET' },
    cause: new Error('sk-proj-SECRET'),
  });
  assert.doesNotMatch(JSON.stringify(openAiErrorBody(err)), /SECRET/);
  assert.doesNotMatch(streamErrorEvent(err), /SECRET/);
});

test('the official SDK turns the error body into the right error class with code, type and param', async () => {
  const cases = [
    [
      gatewayError('request.invalid', { params: { path: 'n', detail: 'must be <= 128' }, param: 'n' }),
      OpenAI.BadRequestError,
    ],
    [gatewayError('auth.invalid_key'), OpenAI.AuthenticationError],
    [gatewayError('request.too_large', { params: { limit: 1048576 } }), OpenAI.APIError],
    [gatewayError('model.not_found', { params: { model: 'nope' } }), OpenAI.NotFoundError],
    [gatewayError('upstream.rate_limited'), OpenAI.RateLimitError],
    [gatewayError('upstream.unavailable'), OpenAI.InternalServerError],
  ] as const;
  for (const [err, cls] of cases) {
    const { client } = sdkClient(() => jsonResponse(err.status, openAiErrorBody(err)));
    const thrown = await client.chat.completions
      .create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
      .then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e,
      );
    assert.ok(thrown instanceof cls, `${err.code}: got ${String(thrown)}`);
    assert.equal(thrown.status, err.status);
    assert.equal(thrown.code, err.code);
    assert.equal(thrown.type, openAiErrorBody(err).error.type);
    assert.equal(thrown.param, err.param ?? null);
    assert.equal(thrown.message, `${err.status} ${err.publicMessage}`);
  }
});

test('a real validation error round-trips to the SDK with its JSON path', async () => {
  let err: unknown;
  try {
    parseChatRequest({
      model: 'm',
      messages: [
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/a.png', detial: 'low' } }] },
      ],
    });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Error && 'code' in err);
  const body = openAiErrorBody(err as Parameters<typeof openAiErrorBody>[0]);
  const apiError = OpenAI.APIError.generate(400, body, undefined, new Headers());
  assert.ok(apiError instanceof OpenAI.BadRequestError);
  assert.equal(apiError.param, 'messages[0].content[0].image_url.detial');
  assert.equal(apiError.code, 'request.invalid');
});

test('chunks render as SSE data events and the SDK reads them back unchanged', async () => {
  const text = chunks.map(chatChunkToSse).join('') + SSE_DONE;
  for (const event of text.split('\n\n').slice(0, -1)) assert.match(event, /^data: [^\n]+$/);
  assert.ok(text.endsWith('\n\ndata: [DONE]\n\n'));
  const { client } = sdkClient(() => sseResponse(text));
  const stream = await client.chat.completions.create({
    model: 'm',
    messages: [{ role: 'user', content: 'x' }],
    stream: true,
  });
  const got: unknown[] = [];
  for await (const chunk of stream) got.push(chunk);
  assert.deepEqual(got, chunks);
});

test('model output cannot break SSE framing or forge [DONE]', async () => {
  const evil: ChatChunk = {
    ...contentChunks[1]!,
    choices: [{ index: 0, delta: { content: 'a\n\ndata: [DONE]\r\n\r\nevent: x\rb' }, finish_reason: null }],
  };
  const event = chatChunkToSse(evil);
  assert.equal(event.split('\n').length, 3); // "data: …", "", ""
  assert.doesNotMatch(event.slice(0, -2), /[\r\n]/);
  const { client } = sdkClient(() => sseResponse(event + SSE_DONE));
  const stream = await client.chat.completions.create({
    model: 'm',
    messages: [{ role: 'user', content: 'x' }],
    stream: true,
  });
  const got: ChatChunk[] = [];
  for await (const chunk of stream) got.push(chunk as unknown as ChatChunk);
  assert.equal(got.length, 1);
  assert.equal(got[0]?.choices[0]?.delta.content, 'a\n\ndata: [DONE]\r\n\r\nevent: x\rb');
});

test('a mid-stream error event makes the SDK throw an APIError with our code after the chunks before it', async () => {
  const err = gatewayError('upstream.stream_interrupted');
  const text = chatChunkToSse(contentChunks[0]!) + chatChunkToSse(contentChunks[1]!) + streamErrorEvent(err);
  assert.match(streamErrorEvent(err), /^data: \{"error":\{[^\n]*\}\}\n\n$/);
  const { client } = sdkClient(() => sseResponse(text));
  const stream = await client.chat.completions.create({
    model: 'm',
    messages: [{ role: 'user', content: 'x' }],
    stream: true,
  });
  const got: unknown[] = [];
  const thrown = await (async () => {
    for await (const c of stream) got.push(c);
  })().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.equal(got.length, 2);
  assert.ok(thrown instanceof OpenAI.APIError, String(thrown));
  assert.equal(thrown.code, 'upstream.stream_interrupted');
  assert.equal(thrown.type, 'api_error');
  assert.equal(thrown.message, "The model provider's stream ended unexpectedly.");
});

test('without include_usage the usage chunk is dropped and no chunk carries usage', () => {
  const sent = chunks.map((c) => prepareChunkForClient(c, false)).filter((c) => c !== undefined);
  assert.equal(sent.length, contentChunks.length);
  for (const c of sent) assert.ok(!('usage' in c));
  const withStrayUsage = { ...contentChunks[1]!, usage: null };
  assert.ok(!('usage' in prepareChunkForClient(withStrayUsage, false)!));
  assert.ok('usage' in withStrayUsage, 'the input chunk is not mutated');
});

test('with include_usage the usage chunk is kept and other chunks say usage: null, as OpenAI does', () => {
  const sent = chunks.map((c) => prepareChunkForClient(c, true));
  assert.equal(sent.length, chunks.length);
  for (const c of sent.slice(0, -1)) assert.equal(c?.usage, null);
  assert.deepEqual(sent.at(-1), usageChunk);
  assert.ok(!('usage' in contentChunks[0]!), 'the input chunk is not mutated');
});

test('model list and model bodies are what the SDK expects', async () => {
  const models = [
    { id: 'gpt-4o', created: 1715367049, owned_by: 'portcullis' },
    { id: 'claude', created: 1, owned_by: 'acme' },
  ];
  assert.deepEqual(modelsListBody(models), {
    object: 'list',
    data: [
      { id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'portcullis' },
      { id: 'claude', object: 'model', created: 1, owned_by: 'acme' },
    ],
  });
  const { client } = sdkClient((req) =>
    req.url.endsWith('/models') ? jsonResponse(200, modelsListBody(models)) : jsonResponse(200, modelBody(models[0]!)),
  );
  const listed: string[] = [];
  for await (const m of client.models.list()) listed.push(m.id);
  assert.deepEqual(listed, ['gpt-4o', 'claude']);
  const one = await client.models.retrieve('gpt-4o');
  assert.deepEqual(one, { id: 'gpt-4o', object: 'model', created: 1715367049, owned_by: 'portcullis' });
});

test("the gateway's cache-write counts never reach an OpenAI client: prompt_tokens_details keeps OpenAI's cached_tokens only", () => {
  const usage = {
    prompt_tokens: 2100,
    completion_tokens: 9,
    total_tokens: 2109,
    prompt_tokens_details: { cached_tokens: 1000, cache_write_tokens: 1050, cache_write_1h_tokens: 50 },
  };
  assert.deepEqual(openAiUsage(usage), {
    prompt_tokens: 2100,
    completion_tokens: 9,
    total_tokens: 2109,
    prompt_tokens_details: { cached_tokens: 1000 },
  });
  assert.deepEqual(openAiUsage({ ...usage, prompt_tokens_details: { cache_write_tokens: 5 } }).prompt_tokens_details, {
    cached_tokens: 0,
  });
  const plain = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };
  assert.equal(openAiUsage(plain), plain, 'usage without internal fields passes untouched');
  const body: ChatResponse = {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    usage,
    choices: [
      { index: 0, message: { role: 'assistant', content: 'x', refusal: null }, finish_reason: 'stop', logprobs: null },
    ],
  };
  assert.doesNotMatch(JSON.stringify(openAiChatBody(body)), /cache_write/);
  assert.equal(body.usage?.prompt_tokens_details?.cache_write_tokens, 1050, 'the canonical body (metering) keeps them');
  const last: ChatChunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage };
  assert.doesNotMatch(JSON.stringify(prepareChunkForClient(last, true)), /cache_write/);
  assert.equal(prepareChunkForClient(last, false), undefined);
});
