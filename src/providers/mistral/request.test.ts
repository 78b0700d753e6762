import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatRequest } from '../canonical.ts';
import { readJsonFixture, testContext } from '../openai/test-fixtures.ts';
import { createMistralAdapter } from './index.ts';
import { toMistralToolCallId } from './tool-call-ids.ts';

const dir = import.meta.dirname;
const adapter = createMistralAdapter();
const request = () => readJsonFixture<ChatRequest>(dir, 'chat-request-tools.json');
const build = (req: ChatRequest) =>
  adapter.chatRequest(req, testContext({ upstreamModel: 'mistral-large-2411', credential: 'mistral-key' }));

test('mistral request: path, auth, stream flag and the upstream model', () => {
  const http = build(request());
  assert.equal(http.method, 'POST');
  assert.equal(http.path, '/chat/completions');
  assert.equal(http.stream, true);
  assert.equal(http.headers.authorization, 'Bearer mistral-key');
  const body = http.body as Record<string, unknown>;
  assert.equal(body.model, 'mistral-large-2411');
  assert.equal(body.stream, true);
});

test('mistral request: OpenAI parameters are renamed to Mistral names', () => {
  const body = build(request()).body as Record<string, unknown>;
  assert.equal(body.random_seed, 1337);
  assert.equal(body.max_tokens, 512, 'max_completion_tokens wins over the deprecated max_tokens');
  assert.equal(body.tool_choice, 'any');
  assert.deepEqual(body.response_format, { type: 'json_object' });
  assert.equal(body.n, 2);
  assert.equal(body.parallel_tool_calls, true);
  assert.equal(body.frequency_penalty, 0.5);
  assert.deepEqual(body.stop, ['\n\n']);
});

test('mistral request: fields Mistral rejects with 422 are never sent', () => {
  const req = request() as ChatRequest & Record<string, unknown>;
  req.logit_bias = { 1: 5 };
  req.top_logprobs = 2;
  req.safe_prompt_hack = true;
  const body = build(req).body as Record<string, unknown>;
  const allowed = new Set([
    'model',
    'messages',
    'temperature',
    'top_p',
    'max_tokens',
    'stream',
    'stop',
    'random_seed',
    'response_format',
    'tools',
    'tool_choice',
    'presence_penalty',
    'frequency_penalty',
    'n',
    'parallel_tool_calls',
  ]);
  assert.deepEqual(
    Object.keys(body).filter((k) => !allowed.has(k)),
    [],
  );
  for (const m of body.messages as Array<Record<string, unknown>>) {
    assert.equal('name' in m && m.role !== 'tool', false, `no name on ${String(m.role)} messages`);
    assert.equal('refusal' in m, false);
  }
});

test('mistral request: roles, images and tool results as Mistral expects them', () => {
  const messages = build(request()).body as { messages: Array<Record<string, unknown>> };
  const [system, user, assistant, toolA, toolB] = messages.messages;
  assert.deepEqual(system, { role: 'system', content: 'You are a payments assistant. Answer in one sentence.' });
  assert.deepEqual(user, {
    role: 'user',
    content: [
      { type: 'text', text: "What's the status of my transaction T1001? Here is the receipt:" },
      { type: 'image_url', image_url: 'https://tripfixers.com/wp-content/uploads/2019/11/eiffel-tower-with-snow.jpeg' },
      {
        type: 'image_url',
        image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2wBD', detail: 'high' },
      },
    ],
  });
  assert.equal(assistant?.content, null);
  assert.deepEqual(toolB, {
    role: 'tool',
    content: '{"date": "2021-10-05"}',
    tool_call_id: 'D681PevKs',
    name: 'retrieve_payment_date',
  });
  assert.equal(toolA?.name, 'retrieve_payment_status');
});

test('mistral request: foreign tool-call ids become 9-character ids that still pair up', () => {
  const body = build(request()).body as { messages: Array<Record<string, unknown>> };
  const calls = body.messages[2]?.tool_calls as Array<{ id: string }>;
  const mapped = calls[0]?.id ?? '';
  assert.match(mapped, /^[A-Za-z0-9]{9}$/);
  assert.notEqual(mapped, 'call_abc123');
  assert.equal(body.messages[3]?.tool_call_id, mapped, 'the tool result answers the same id');
  assert.equal(calls[1]?.id, 'D681PevKs', "Mistral's own ids pass unchanged");
  // Deterministic across requests: the next turn of the same conversation maps identically.
  assert.equal(toMistralToolCallId('call_abc123'), mapped);
  assert.notEqual(toMistralToolCallId('call_abc124'), mapped);
  for (const id of ['toolu_01A09q90qw90lq917835lq9', 'x', '', 'call_ü🙂', 'a'.repeat(1000)]) {
    assert.match(toMistralToolCallId(id), /^[A-Za-z0-9]{9}$/);
  }
});

test('mistral request: developer role, refusal in history and no stream', () => {
  const body = build({
    model: 'm',
    messages: [
      { role: 'developer', content: [{ type: 'text', text: 'Be brief.' }], name: 'ops' },
      { role: 'user', content: 'Help me pick a lock.' },
      { role: 'assistant', refusal: "I can't help with that.", content: null },
    ],
    seed: 0,
    max_tokens: 64,
    tool_choice: { type: 'function', function: { name: 'lookup' } },
    response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } },
  }).body as Record<string, unknown>;
  const messages = body.messages as Array<Record<string, unknown>>;
  assert.deepEqual(messages[0], { role: 'system', content: [{ type: 'text', text: 'Be brief.' }] });
  assert.deepEqual(messages[2], { role: 'assistant', content: "I can't help with that." });
  assert.equal(body.random_seed, 0);
  assert.equal(body.max_tokens, 64);
  assert.equal('stream' in body, false);
  assert.deepEqual(body.tool_choice, { type: 'function', function: { name: 'lookup' } });
  assert.deepEqual(body.response_format, {
    type: 'json_schema',
    json_schema: { name: 'answer', schema: { type: 'object' }, strict: true },
  });
});
