/**
 * The official `openai` client against the real gateway process, for every provider family.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { type RunningGateway, startGateway } from './helpers/gateway.ts';

let gw: RunningGateway;
let client: OpenAI;

before(async () => {
  gw = await startGateway();
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: await gw.createKey(), maxRetries: 0 });
});
after(async () => {
  await gw.stop();
});

const CHAT_MODELS = ['gpt', 'claude', 'gemini', 'mistral', 'llama'];
const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

for (const model of CHAT_MODELS) {
  describe(`chat via ${model}`, () => {
    test('plain completion echoes the prompt with consistent usage', async () => {
      const r = await client.chat.completions.create({
        model,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hello gateway' },
        ],
      });
      assert.equal(r.object, 'chat.completion');
      assert.equal(r.model, model);
      assert.equal(r.choices[0]!.message.role, 'assistant');
      assert.equal(r.choices[0]!.message.content, 'Hello gateway');
      assert.equal(r.choices[0]!.finish_reason, 'stop');
      assert.ok(r.usage && r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
      assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
    });

    test('streaming delivers the same text and usage when asked for', async () => {
      const plain = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'one two three four' }],
      });
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'one two three four' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | undefined;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        assert.equal(chunk.object, 'chat.completion.chunk');
        assert.equal(chunk.model, model);
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      assert.ok(chunks > 2, 'streamed in several chunks');
      assert.equal(text, 'one two three four');
      assert.equal(finish, 'stop');
      assert.deepEqual(
        { p: usage?.prompt_tokens, c: usage?.completion_tokens },
        { p: plain.usage?.prompt_tokens, c: plain.usage?.completion_tokens },
      );
    });

    test('streaming without include_usage sends no usage chunk', async () => {
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      for await (const chunk of stream) {
        assert.ok(chunk.usage === undefined || chunk.usage === null, 'no usage');
        assert.ok(chunk.choices.length > 0, 'no empty usage-only chunk');
      }
    });

    test('forced tool call comes back as tool_calls, then a tool result is accepted', async () => {
      const r = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools: [weatherTool],
        tool_choice: 'required',
      });
      const choice = r.choices[0]!;
      assert.equal(choice.finish_reason, 'tool_calls');
      const call = choice.message.tool_calls?.[0];
      assert.ok(call && call.type === 'function');
      assert.equal(call.function.name, 'get_weather');
      assert.equal(typeof JSON.parse(call.function.arguments).city, 'string');
      const followUp = await client.chat.completions.create({
        model,
        tools: [weatherTool],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: '{"temp": 21}' },
          { role: 'user', content: 'Thanks' },
        ],
      });
      assert.equal(followUp.choices[0]!.message.content, 'Thanks');
    });

    test('streamed tool call arguments reassemble into valid JSON', async () => {
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Weather in Rome?' }],
        tools: [weatherTool],
        tool_choice: 'required',
        stream: true,
      });
      let name = '';
      let args = '';
      let id = '';
      let finish: string | null = null;
      for await (const chunk of stream) {
        const tc = chunk.choices[0]?.delta.tool_calls?.[0];
        if (tc?.id) id = tc.id;
        if (tc?.function?.name) name += tc.function.name;
        if (tc?.function?.arguments) args += tc.function.arguments;
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assert.equal(name, 'get_weather');
      assert.ok(id.length > 0);
      assert.equal(typeof JSON.parse(args).city, 'string');
      assert.equal(finish, 'tool_calls');
    });

    test('JSON mode returns parseable JSON', async () => {
      const r = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Give me JSON' }],
        response_format: { type: 'json_object' },
      });
      assert.equal(typeof JSON.parse(r.choices[0]!.message.content ?? ''), 'object');
    });
  });
}

test('json_schema response format is honoured', async () => {
  const r = await client.chat.completions.create({
    model: 'gpt',
    messages: [{ role: 'user', content: 'data' }],
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'out',
        schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] },
      },
    },
  });
  assert.equal(typeof JSON.parse(r.choices[0]!.message.content ?? '{}').answer, 'string');
});

test('image parts reach providers that accept them', async () => {
  const r = await client.chat.completions.create({
    model: 'gpt',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
        ],
      },
    ],
  });
  assert.equal(r.choices[0]!.message.content, 'What is this?');
});

test('embeddings', async () => {
  const r = await client.embeddings.create({ model: 'embed', input: ['alpha', 'beta'] });
  assert.equal(r.data.length, 2);
  assert.equal(r.model, 'embed');
  assert.ok(r.data[0]!.embedding.length > 0);
  assert.notDeepEqual(r.data[0]!.embedding, r.data[1]!.embedding);
  assert.ok(r.usage.prompt_tokens > 0);
});

test('a chat model refuses embeddings and vice versa', async () => {
  await assert.rejects(
    client.embeddings.create({ model: 'gpt', input: 'x' }),
    (e: unknown) => e instanceof OpenAI.BadRequestError && e.code === 'model.operation_unsupported',
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'embed', messages: [{ role: 'user', content: 'x' }] }),
    (e: unknown) => e instanceof OpenAI.BadRequestError,
  );
});

test('models list and get', async () => {
  const list = await client.models.list();
  const ids = list.data.map((m) => m.id).sort();
  assert.deepEqual(ids, ['claude', 'embed', 'fallback', 'gemini', 'gpt', 'llama', 'mistral']);
  const one = await client.models.retrieve('gpt');
  assert.equal(one.id, 'gpt');
  await assert.rejects(client.models.retrieve('nope'), (e: unknown) => e instanceof OpenAI.NotFoundError);
});

test('unknown model is a 404 in OpenAI shape', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
    (e: unknown) =>
      e instanceof OpenAI.NotFoundError && e.code === 'model.not_found' && e.type === 'invalid_request_error',
  );
});

test('a parameter the target cannot honour is rejected, naming it', async () => {
  await assert.rejects(
    client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'x' }],
      logit_bias: { '50256': -100 },
    }),
    (e: unknown) =>
      e instanceof OpenAI.BadRequestError && e.code === 'request.unsupported_parameter' && e.param === 'logit_bias',
  );
});

test('no key, a wrong key and a key of valid format all get 401', async () => {
  const anon = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-not-a-portcullis-key', maxRetries: 0 });
  await assert.rejects(
    anon.models.list(),
    (e: unknown) => e instanceof OpenAI.AuthenticationError && e.code === 'auth.invalid_key',
  );
  const res = await fetch(`${gw.url}/v1/models`);
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'auth.missing_credentials');
  const key = await gw.createKey();
  const revoked = await gw.cli(['keys', 'list', '--config', gw.configPath, '--json']);
  assert.equal(revoked.code, 0);
  const wrong = key.slice(0, -10) + (key.slice(-10, -9) === 'A' ? 'B' : 'A') + key.slice(-9);
  const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: wrong, maxRetries: 0 });
  await assert.rejects(bad.models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
});

test('a key scoped to some models cannot see or use the others', async () => {
  const scoped = new OpenAI({
    baseURL: `${gw.url}/v1`,
    apiKey: await gw.createKey({ models: 'gpt,embed' }),
    maxRetries: 0,
  });
  const ids = (await scoped.models.list()).data.map((m) => m.id).sort();
  assert.deepEqual(ids, ['embed', 'gpt']);
  await assert.rejects(
    scoped.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }),
    (e: unknown) => e instanceof OpenAI.NotFoundError,
  );
});

test('a key revoked from the CLI stops working within a second', async () => {
  const key = await gw.createKey({ label: 'to-revoke' });
  const c = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
  await c.models.list();
  const list = JSON.parse((await gw.cli(['keys', 'list', '--config', gw.configPath, '--json'])).stdout) as Array<{
    id: string;
    label: string;
  }>;
  const id = list.find((k) => k.label === 'to-revoke')!.id;
  assert.equal((await gw.cli(['keys', 'revoke', id, '--config', gw.configPath])).code, 0);
  const revokedAt = Date.now();
  let refused = false;
  while (!refused && Date.now() - revokedAt < 3000) {
    refused = await c.models.list().then(
      () => false,
      (e: unknown) => e instanceof OpenAI.AuthenticationError,
    );
    if (!refused) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(refused, 'revoked key refused');
  assert.ok(Date.now() - revokedAt < 1500, 'within the 1 s cache bound (plus scheduling slack)');
});
