import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UpstreamProtocolError } from '../contract.ts';
import { createOpenAiAdapter } from './index.ts';
import { readJsonFixture, testContext } from './test-fixtures.ts';

const dir = import.meta.dirname;

test('openai embeddings: request carries the upstream model and only known fields', () => {
  const adapter = createOpenAiAdapter('openai');
  const req = {
    model: 'embed-default',
    input: ['The food was delicious', 'and the waiter…'],
    encoding_format: 'float' as const,
    dimensions: 256,
    user: 'u1',
    extra: 1,
  };
  const http = adapter.embeddingsRequest!(req, testContext({ upstreamModel: 'text-embedding-3-small' }));
  assert.equal(http.path, '/embeddings');
  assert.equal(http.method, 'POST');
  assert.equal(http.headers.authorization, 'Bearer sk-test-credential');
  assert.deepEqual(http.body, {
    model: 'text-embedding-3-small',
    input: ['The food was delicious', 'and the waiter…'],
    encoding_format: 'float',
    dimensions: 256,
    user: 'u1',
  });
});

const twoInputs = { model: 'embed-default', input: ['The food was delicious', 'and the waiter…'] };

test('openai embeddings: response is checked and renamed to the public model', () => {
  const adapter = createOpenAiAdapter('openai-compatible');
  const res = adapter.embeddingsResponse!(
    readJsonFixture(dir, 'embeddings-response.json'),
    testContext({ publicModel: 'embed-default' }),
    twoInputs,
  );
  assert.equal(res.model, 'embed-default');
  assert.equal(res.data.length, 2);
  assert.deepEqual(res.data[1], {
    object: 'embedding',
    index: 1,
    embedding: [-0.0069352793, 0.0104584115, 0.0152331423],
  });
  assert.deepEqual(res.usage, { prompt_tokens: 8, total_tokens: 8 });
});

test('openai embeddings: base64 vectors pass through when asked for, malformed answers do not', () => {
  const adapter = createOpenAiAdapter('openai');
  const req = { model: 'e', input: 'hello', encoding_format: 'base64' as const };
  const ok = {
    object: 'list',
    data: [{ object: 'embedding', index: 0, embedding: 'AAAAPwAAgD8=' }],
    model: 'x',
    usage: { prompt_tokens: 1, total_tokens: 1 },
  };
  assert.equal(adapter.embeddingsResponse!(ok, testContext(), req).data[0]?.embedding, 'AAAAPwAAgD8=');
  const bad: Array<[string, unknown, typeof req | { model: string; input: string }]> = [
    ['a float array asked for, base64 received', ok, { model: 'e', input: 'hello' }],
    [
      'a non-number in the vector',
      { ...ok, data: [{ object: 'embedding', index: 0, embedding: [0.1, 'x'] }] },
      { model: 'e', input: 'hello' },
    ],
    ['data not an array', { ...ok, data: 'nope' }, req],
    ['wrong object', { ...ok, object: 'chat.completion' }, req],
    ['fewer vectors than inputs', ok, { ...req, input: ['a', 'b'] } as unknown as typeof req],
    ['usage malformed', { ...ok, usage: { prompt_tokens: '1' } }, req],
  ];
  for (const [name, body, r] of bad)
    assert.throws(() => adapter.embeddingsResponse!(body, testContext(), r), UpstreamProtocolError, name);
});

test('openai-compatible embeddings: a server that reports no usage is metered by estimate', () => {
  const adapter = createOpenAiAdapter('openai-compatible');
  const body = {
    object: 'list',
    data: [
      { object: 'embedding', index: 0, embedding: [0.5] },
      { object: 'embedding', index: 1, embedding: [0.25] },
    ],
    model: 'all-minilm',
  };
  const res = adapter.embeddingsResponse!(body, testContext(), { model: 'e', input: ['abcdefgh', 'abcd'] });
  assert.deepEqual(res.usage, { prompt_tokens: 3, total_tokens: 3 });
});

test('openai capabilities: both kinds advertise what the README table will show', async () => {
  const { capabilities } = await import('./index.ts');
  assert.equal(capabilities.openai?.logitBias, true);
  assert.equal(capabilities['openai-compatible']?.logprobs, true);
  assert.equal(createOpenAiAdapter('openai').capabilities, capabilities.openai);
});
