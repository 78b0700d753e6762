/**
 * Compares the emulator's answers with the published wire samples in fixtures/: every field
 * a sample has must be present in the emulator's answer with the same JSON type.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { MockProvider } from './core/types.ts';
import { type MockUpstream, startMockUpstream } from './server.ts';
import { parseSse, post, postJson } from './test-support.ts';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const json = (name: string): unknown => JSON.parse(fixture(name));

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function assertShape(sample: unknown, actual: unknown, path = '$'): void {
  if (sample === null) return;
  assert.equal(kind(actual), kind(sample), `${path}: expected ${kind(sample)}, got ${kind(actual)}`);
  if (Array.isArray(sample) && Array.isArray(actual)) {
    if (sample.length > 0) {
      assert.ok(actual.length > 0, `${path}: empty array where the sample has items`);
      assertShape(sample[0], actual[0], `${path}[0]`);
    }
  } else if (kind(sample) === 'object') {
    for (const [key, value] of Object.entries(sample as Record<string, unknown>)) {
      assert.ok(key in (actual as Record<string, unknown>), `${path}.${key} is missing`);
      assertShape(value, (actual as Record<string, unknown>)[key], `${path}.${key}`);
    }
  }
}

function assertStreamShape(sampleText: string, actualText: string): void {
  const sample = parseSse(sampleText);
  const actual = parseSse(actualText);
  assert.deepEqual(
    actual.map((e) => e.event),
    sample.map((e) => e.event),
  );
  assert.equal(actual.length, sample.length);
  sample.forEach((e, i) => {
    if (e.data === '[DONE]') assert.equal(actual[i]?.data, '[DONE]');
    else assertShape(JSON.parse(e.data), JSON.parse(actual[i]?.data ?? 'null'), `event ${i}`);
  });
}

let mock: MockUpstream;
before(async () => {
  mock = await startMockUpstream();
});
after(() => mock.close());

const chat = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'm',
  messages: [{ role: 'user', content }],
  ...extra,
});
const tool = {
  type: 'function',
  function: {
    name: 'get_current_weather',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};
const anthropicAsk = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'c',
  max_tokens: 100,
  messages: [{ role: 'user', content }],
  ...extra,
});
const geminiAsk = (text: string, extra: Record<string, unknown> = {}) => ({
  contents: [{ role: 'user', parts: [{ text }] }],
  ...extra,
});
const text = async (provider: MockProvider, path: string, body: unknown) =>
  (await post(mock, provider, path, body)).text();

describe('answers match the published wire samples', () => {
  it('openai', async () => {
    assertShape(
      json('openai-chat-completion.json'),
      (await postJson(mock, 'openai', '/chat/completions', chat('Hello'))).json,
    );
    assertShape(
      json('openai-chat-tool-call.json'),
      (await postJson(mock, 'openai', '/chat/completions', chat('Boston', { tools: [tool], tool_choice: 'required' })))
        .json,
    );
    assertStreamShape(
      fixture('openai-chat-stream.txt'),
      await text(
        'openai',
        '/chat/completions',
        chat('Hello', { stream: true, stream_options: { include_usage: true } }),
      ),
    );
    assertShape(
      json('openai-embeddings.json'),
      (await postJson(mock, 'openai', '/embeddings', { model: 'e', input: 'hi' })).json,
    );
    mock.addFault({ provider: 'openai', status: 429 });
    assertShape(json('openai-error.json'), (await postJson(mock, 'openai', '/chat/completions', chat('x'))).json);
  });

  it('anthropic', async () => {
    assertShape(
      json('anthropic-message.json'),
      (await postJson(mock, 'anthropic', '/messages', anthropicAsk('Hi'))).json,
    );
    const weather = {
      name: 'get_weather',
      input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
    };
    assertShape(
      json('anthropic-tool-use.json'),
      (
        await postJson(
          mock,
          'anthropic',
          '/messages',
          anthropicAsk('SF', { tools: [weather], tool_choice: { type: 'any' } }),
        )
      ).json,
    );
    assertStreamShape(
      fixture('anthropic-stream.txt'),
      await text('anthropic', '/messages', anthropicAsk('Hello!', { stream: true })),
    );
    mock.addFault({ provider: 'anthropic', status: 404 });
    assertShape(json('anthropic-error.json'), (await postJson(mock, 'anthropic', '/messages', anthropicAsk('x'))).json);
  });

  it('gemini', async () => {
    const base = '/models/gemini-2.5-flash';
    assertShape(
      json('gemini-generate-content.json'),
      (await postJson(mock, 'gemini', `${base}:generateContent`, geminiAsk('Explain AI'))).json,
    );
    const decl = {
      functionDeclarations: [
        {
          name: 'schedule_meeting',
          parameters: {
            type: 'object',
            properties: { topic: { type: 'string' }, date: { type: 'string' } },
            required: ['topic', 'date'],
          },
        },
      ],
    };
    assertShape(
      json('gemini-function-call.json'),
      (
        await postJson(
          mock,
          'gemini',
          `${base}:generateContent`,
          geminiAsk('plan', { tools: [decl], toolConfig: { functionCallingConfig: { mode: 'ANY' } } }),
        )
      ).json,
    );
    const sample = parseSse(fixture('gemini-stream.txt')).map((e) => JSON.parse(e.data));
    const actual = parseSse(await text('gemini', `${base}:streamGenerateContent?alt=sse`, geminiAsk('The end.'))).map(
      (e) => JSON.parse(e.data),
    );
    assertShape(sample[0], actual[0]);
    assertShape(sample.at(-1), actual.at(-1));
    assert.equal(
      actual.slice(0, -1).some((c) => 'usageMetadata' in c || 'finishReason' in c.candidates[0]),
      false,
    );
    assertShape(
      json('gemini-embed-content.json'),
      (await postJson(mock, 'gemini', '/models/e:embedContent', { content: { parts: [{ text: 'x' }] } })).json,
    );
    assertShape(
      json('gemini-batch-embed-contents.json'),
      (
        await postJson(mock, 'gemini', '/models/e:batchEmbedContents', {
          requests: [{ content: { parts: [{ text: 'x' }] } }],
        })
      ).json,
    );
    assertShape(
      json('gemini-error.json'),
      (await postJson(mock, 'gemini', `${base}:generateContent`, geminiAsk('x'), { 'x-goog-api-key': 'wrong' })).json,
    );
  });

  it('mistral', async () => {
    assertShape(
      json('mistral-chat-completion.json'),
      (await postJson(mock, 'mistral', '/chat/completions', chat('Bonjour'))).json,
    );
    assertStreamShape(
      fixture('mistral-chat-stream.txt'),
      await text('mistral', '/chat/completions', chat('Bonjour', { stream: true })),
    );
    assertShape(
      json('mistral-embeddings.json'),
      (await postJson(mock, 'mistral', '/embeddings', { model: 'mistral-embed', input: ['x'] })).json,
    );
    mock.addFault({ provider: 'mistral', status: 429 });
    assertShape(json('mistral-error.json'), (await postJson(mock, 'mistral', '/chat/completions', chat('x'))).json);
    assertShape(
      json('mistral-validation-error.json'),
      (await postJson(mock, 'mistral', '/chat/completions', chat('x', { store: false }))).json,
    );
  });
});
