import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseJsonBodySource } from '../../surfaces/json-body.ts';
import { parseChatRequest } from '../../surfaces/openai/chat-request.ts';
import { clientBodyFor, keepClientBody } from '../../surfaces/openai/client-body.ts';
import { parseEmbeddingsRequest } from '../../surfaces/openai/embeddings-request.ts';
import type { ChatRequest, ClientChatBody } from '../canonical.ts';
import { createOpenAiAdapter } from './adapter.ts';
import { buildOpenAiEmbeddingsBody } from './embeddings.ts';
import { forwardOpenAiChatBody, forwardOpenAiEmbeddingsBody } from './forward.ts';
import { buildOpenAiChatBody } from './request.ts';

const enc = new TextEncoder();

function clientBody(text: string | Uint8Array): { body: ClientChatBody | undefined; request: ChatRequest } {
  const { value, source } = parseJsonBodySource(typeof text === 'string' ? enc.encode(text) : text, { maxDepth: 64 });
  const request = parseChatRequest(value);
  return { body: keepClientBody(source, request)?.body, request };
}

/** What the normal path sends, as a value; `stream: false` is what an absent `stream` means. */
function normal(request: ChatRequest, compatible: boolean): unknown {
  return JSON.parse(JSON.stringify(buildOpenAiChatBody(request, { upstreamModel: 'up-model', compatible })));
}

function forwarded(body: ClientChatBody, compatible: boolean): unknown {
  const text = forwardOpenAiChatBody(body, { upstreamModel: 'up-model', compatible });
  assert.ok(text !== undefined, 'expected the fast path to apply');
  const value = JSON.parse(text) as Record<string, unknown>;
  if (value.stream === false) delete value.stream;
  return value;
}

const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather',
      parameters: {
        type: 'object',
        properties: { model: { type: 'string', enum: ['a', 'b'] }, n: { type: 'integer', minimum: 1 } },
        required: ['model'],
      },
      strict: true,
    },
  },
];

/** Bodies the fast path forwards: each must reach the provider saying exactly what the normal path says. */
const FORWARDABLE: Record<string, string> = {
  plain: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }),
  'model last, whitespace everywhere': `{ "messages" : [ { "role" : "user" , "content" : "hi" } ] ,\n\t"model" : "gpt"\r\n }`,
  'escaped key names': '{"mod\\u0065l":"gpt","m\\u0065ssages":[{"role":"user","content":"a \\"model\\": \\"x\\""}]}',
  'a model key inside tool parameters and message text': JSON.stringify({
    messages: [{ role: 'user', content: '{"model":"evil"}' }],
    tools: TOOLS,
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    parallel_tool_calls: false,
    model: 'gpt',
  }),
  'stream without options': JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }], stream: true }),
  'stream, usage not asked': JSON.stringify({
    stream_options: { include_usage: false },
    model: 'gpt',
    stream: true,
    messages: [{ role: 'user', content: 'hi' }],
  }),
  'stream, usage asked, options after model': JSON.stringify({
    model: 'gpt',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    stream_options: { include_usage: true },
  }),
  'stream false': JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }], stream: false }),
  'every option': JSON.stringify({
    model: 'gpt',
    messages: [
      { role: 'developer', content: 'be brief' },
      { role: 'system', content: [{ type: 'text', text: 'sys' }], name: 'ops' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'look' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        content: 'calling',
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"model":"a"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
    ],
    tools: TOOLS,
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'out', schema: { type: 'object', properties: {} }, strict: true },
    },
    stop: ['END', 'STOP'],
    temperature: 0.7,
    top_p: 0.9,
    max_completion_tokens: 300,
    seed: 42,
    user: 'u-1',
    n: 2,
    presence_penalty: -0.5,
    frequency_penalty: 1.25,
    logit_bias: { '50256': -100 },
    logprobs: true,
    top_logprobs: 3,
    metadata: { team: 'a' },
  }),
  'unicode, escapes and a lone surrogate':
    '{"model":"gpt","messages":[{"role":"user","content":"h\\u00e9 ☃ \\ud83d\\ude00 \\ud800 \\/ \\n"}]}',
};

describe('same-dialect fast path: the forwarded body says what the normal path says', () => {
  for (const [name, text] of Object.entries(FORWARDABLE)) {
    for (const compatible of [false, true]) {
      test(`${name}${compatible ? ' (OpenAI-compatible)' : ''}`, (t) => {
        const { body, request } = clientBody(text);
        assert.ok(body !== undefined, 'kept for forwarding');
        if (compatible && (request.metadata !== undefined || request.messages.some((m) => m.role === 'developer'))) {
          // A compatible server gets `system` for `developer` and no metadata: only the normal path does that.
          assert.equal(forwardOpenAiChatBody(body, { upstreamModel: 'up-model', compatible }), undefined);
          t.diagnostic('falls back');
          return;
        }
        assert.deepEqual(forwarded(body, compatible), normal(request, compatible));
      });
    }
  }

  test('the BOM a decoder drops is not forwarded', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode(FORWARDABLE.plain!)]);
    const { body } = clientBody(bytes);
    const text = forwardOpenAiChatBody(body!, { upstreamModel: 'up-model', compatible: false })!;
    assert.equal(text.charCodeAt(0), 0x7b);
    assert.equal((JSON.parse(text) as { model: string }).model, 'up-model');
  });

  test('only the top-level model changes; a target model with quotes stays one JSON string', () => {
    const { body } = clientBody(FORWARDABLE['a model key inside tool parameters and message text']!);
    const text = forwardOpenAiChatBody(body!, { upstreamModel: 'x","stream":true,"y":"', compatible: false })!;
    const value = JSON.parse(text) as Record<string, unknown>;
    assert.equal(value.model, 'x","stream":true,"y":"');
    assert.equal(value.stream, undefined);
    assert.equal((value.messages as Array<{ content: string }>)[0]!.content, '{"model":"evil"}');
    assert.deepEqual(value.tools, TOOLS);
  });
});

describe('same-dialect fast path: falls back when the bytes could say something else', () => {
  const cases: Record<string, string> = {
    'a null member (validation reads it as not set)':
      '{"model":"gpt","messages":[{"role":"user","content":"hi"}],"temperature":null}',
    'a null inside a message':
      '{"model":"gpt","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"user","content":"hi"}]}',
    'an exponent': '{"model":"gpt","messages":[{"role":"user","content":"hi"}],"max_tokens":1e2}',
    'a trailing zero': '{"model":"gpt","messages":[{"role":"user","content":"hi"}],"temperature":1.50}',
    'negative zero': '{"model":"gpt","messages":[{"role":"user","content":"hi"}],"presence_penalty":-0}',
    'digits beyond double precision':
      '{"model":"gpt","messages":[{"role":"user","content":"hi"}],"top_p":0.10000000000000001}',
  };
  for (const [name, text] of Object.entries(cases)) {
    test(name, () => {
      const { body, request } = clientBody(text);
      assert.equal(body, undefined);
      // The normal path still serves it.
      assert.ok(buildOpenAiChatBody(request, { upstreamModel: 'm', compatible: false }));
    });
  }

  test('a request a stage replaced or changed at its top level is not forwarded', () => {
    const { value, source } = parseJsonBodySource(enc.encode(FORWARDABLE.plain!), { maxDepth: 64 });
    const request = parseChatRequest(value);
    const kept = keepClientBody(source, request);
    assert.equal(clientBodyFor(kept, request), kept?.body);
    assert.equal(clientBodyFor(kept, { ...request }), undefined, 'replaced (route drops, prompt APIs)');
    request.max_completion_tokens = 256; // what the budget stage's default does
    assert.equal(clientBodyFor(kept, request), undefined, 'member added');
    delete request.max_completion_tokens;
    assert.equal(clientBodyFor(kept, request), kept?.body);
    request.messages = [...request.messages];
    assert.equal(clientBodyFor(kept, request), undefined, 'member replaced');
    assert.equal(clientBodyFor(undefined, request), undefined);
  });

  test('the adapter builds the normal request when the fast path does not apply', () => {
    const adapter = createOpenAiAdapter('openai-compatible');
    const { body } = clientBody(FORWARDABLE['every option']!);
    const ctx = { upstreamModel: 'm', publicModel: 'gpt', credential: 'k', requestId: 'r', created: 1 };
    assert.equal(adapter.forwardChatRequest?.(body!, ctx), undefined);
    const fast = createOpenAiAdapter('openai').forwardChatRequest?.(body!, ctx);
    assert.ok(fast?.bodyText !== undefined);
    assert.deepEqual(fast.headers, createOpenAiAdapter('openai').chatRequest(body!.request, ctx).headers);
    assert.equal(fast.path, '/chat/completions');
  });
});

describe('same-dialect fast path: embeddings', () => {
  const bodies: Record<string, string> = {
    'one string': '{"input":"hello","model":"embed"}',
    'strings, every option': JSON.stringify({
      model: 'embed',
      input: ['a', 'b "model": "x"'],
      encoding_format: 'base64',
      dimensions: 256,
      user: 'u',
    }),
    'token ids': '{"model":"embed","input":[1,2,3]}',
    'arrays of token ids': '{"m\u006fdel":"embed","input":[[1,2],[3]]}',
  };
  for (const [name, text] of Object.entries(bodies)) {
    test(name, () => {
      const { value, source } = parseJsonBodySource(enc.encode(text), { maxDepth: 64 });
      const request = parseEmbeddingsRequest(value);
      const kept = keepClientBody(source, request);
      assert.ok(kept !== undefined);
      const forwarded = forwardOpenAiEmbeddingsBody(kept.body, 'up-model');
      assert.ok(forwarded !== undefined);
      assert.deepEqual(
        JSON.parse(forwarded),
        JSON.parse(JSON.stringify(buildOpenAiEmbeddingsBody(request, 'up-model'))),
      );
    });
  }

  test('falls back on a null, and the adapter then builds the body', () => {
    const { value, source } = parseJsonBodySource(enc.encode('{"model":"embed","input":"x","user":null}'), {
      maxDepth: 64,
    });
    assert.equal(keepClientBody(source, parseEmbeddingsRequest(value)), undefined);
  });
});
