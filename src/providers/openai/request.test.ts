import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatRequest } from '../canonical.ts';
import { createOpenAiAdapter } from './index.ts';
import { readJsonFixture, testContext } from './test-fixtures.ts';

const dir = import.meta.dirname;
const request = () => readJsonFixture<ChatRequest>(dir, 'chat-request-tools.json');

test('openai: the request keeps every canonical field, with the upstream model id', () => {
  const req = request();
  const http = createOpenAiAdapter('openai').chatRequest(req, testContext({ upstreamModel: 'gpt-4o-2024-08-06' }));
  assert.equal(http.method, 'POST');
  assert.equal(http.path, '/chat/completions');
  assert.equal(http.stream, false);
  const { model, ...rest } = http.body as Record<string, unknown>;
  assert.equal(model, 'gpt-4o-2024-08-06');
  const { model: _clientModel, ...expected } = req;
  assert.deepEqual(rest, expected);
});

test('openai: the body is a new object and unknown keys are never forwarded', () => {
  const req = request() as ChatRequest & Record<string, unknown>;
  req.frobnicate = true;
  (req.messages[1] as unknown as Record<string, unknown>).cache_me = 'please';
  (req.tools?.[0]?.function as unknown as Record<string, unknown>).x_internal = 1;
  const body = createOpenAiAdapter('openai').chatRequest(req, testContext()).body as Record<string, unknown>;
  assert.notEqual(body, req);
  assert.equal('frobnicate' in body, false);
  const messages = body.messages as Record<string, unknown>[];
  assert.equal('cache_me' in (messages[1] ?? {}), false);
  const tools = body.tools as Array<{ function: Record<string, unknown> }>;
  assert.equal('x_internal' in (tools[0]?.function ?? {}), false);
  // Mutating the upstream body must not reach back into the client's request.
  (messages[0] as Record<string, unknown>).content = 'changed';
  assert.equal(req.messages[0]?.content, 'You are a helpful assistant.');
});

test('openai: streaming always asks upstream for usage, whatever the client asked', () => {
  const req: ChatRequest = {
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    stream_options: { include_usage: false },
  };
  const http = createOpenAiAdapter('openai').chatRequest(req, testContext());
  assert.equal(http.stream, true);
  assert.equal(http.headers.accept, 'text/event-stream');
  const body = http.body as Record<string, unknown>;
  assert.equal(body.stream, true);
  assert.deepEqual(body.stream_options, { include_usage: true });
});

test('openai: a non-streaming request sends neither stream nor stream_options', () => {
  const body = createOpenAiAdapter('openai').chatRequest(
    { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: false },
    testContext(),
  ).body as Record<string, unknown>;
  assert.equal('stream' in body, false);
  assert.equal('stream_options' in body, false);
});

test('openai: the credential goes in a bearer header', () => {
  const adapter = createOpenAiAdapter('openai');
  const http = adapter.chatRequest(
    { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
    testContext({ credential: 'sk-live-123' }),
  );
  assert.equal(http.headers.authorization, 'Bearer sk-live-123');
  assert.deepEqual(adapter.authHeaders('sk-live-123'), { authorization: 'Bearer sk-live-123' });
});

test('openai-compatible: no credential means no authorization header at all', () => {
  const adapter = createOpenAiAdapter('openai-compatible');
  assert.deepEqual(adapter.authHeaders(undefined), {});
  const http = adapter.chatRequest(
    { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
    testContext({ credential: undefined }),
  );
  assert.equal(
    Object.keys(http.headers).some((h) => h.toLowerCase() === 'authorization'),
    false,
  );
  assert.equal(adapter.kind, 'openai-compatible');
});

test('openai-compatible: developer becomes system and metadata stays in the gateway', () => {
  const body = createOpenAiAdapter('openai-compatible').chatRequest(request(), testContext({ credential: undefined }))
    .body as Record<string, unknown>;
  const messages = body.messages as Array<{ role: string }>;
  assert.equal(messages[0]?.role, 'system');
  assert.equal('metadata' in body, false);
  assert.deepEqual(body.logit_bias, { 50256: -100 });
  assert.equal(body.logprobs, true);
});

test('openai: prompt-cache hints from the Anthropic surface are left behind (OpenAI has no such field)', () => {
  const cc = { type: 'ephemeral' as const, ttl: '1h' as const };
  const req: ChatRequest = {
    model: 'm',
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'Manual.', cache_control: cc }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Hi', cache_control: cc },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png' }, cache_control: cc },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 't1', content: 'ok', cache_control: cc },
    ],
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } }, cache_control: cc }],
  };
  for (const kind of ['openai', 'openai-compatible'] as const) {
    const http = createOpenAiAdapter(kind).chatRequest(req, testContext({ upstreamModel: 'gpt-4o' }));
    assert.doesNotMatch(JSON.stringify(http.body), /cache_control/, kind);
  }
});
