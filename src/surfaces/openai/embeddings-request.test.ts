import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { GatewayError } from '../../errors/gateway-error.ts';
import { parseJsonBody } from '../json-body.ts';
import { parseEmbeddingsRequest } from './embeddings-request.ts';
import { jsonResponse, sdkClient } from './testing/sdk-harness.ts';

test('the OpenAI reference example parses unchanged', () => {
  const body = JSON.parse(readFileSync(new URL('./fixtures/embeddings-default.json', import.meta.url), 'utf8'));
  assert.deepEqual(parseEmbeddingsRequest(body), body);
});

test('the four input forms are accepted', () => {
  const inputs = ['hello', ['a', 'b'], [0, 1, 100257], [[1, 2], [3]], Array(2048).fill('x'), [Array(2048).fill(7)]];
  for (const input of inputs) assert.deepEqual(parseEmbeddingsRequest({ model: 'e', input }).input, input);
});

test('what the official SDK sends is accepted', async () => {
  const { client, sent } = sdkClient(() =>
    jsonResponse(200, {
      object: 'list',
      model: 'e',
      usage: { prompt_tokens: 1, total_tokens: 1 },
      data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }],
    }),
  );
  await client.embeddings.create({
    model: 'text-embedding-3-small',
    input: ['a', 'b'],
    dimensions: 256,
    encoding_format: 'float',
    user: 'u1',
  });
  const wire = sent[0];
  assert.ok(wire);
  assert.deepEqual(parseEmbeddingsRequest(parseJsonBody(wire.body, { maxDepth: 16 })), {
    model: 'text-embedding-3-small',
    input: ['a', 'b'],
    dimensions: 256,
    encoding_format: 'float',
    user: 'u1',
  });
  // Without an explicit format the SDK asks for base64 (and decodes it itself).
  await client.embeddings.create({ model: 'e', input: 'x' });
  const second = sent[1];
  assert.ok(second);
  assert.equal(parseEmbeddingsRequest(parseJsonBody(second.body, { maxDepth: 16 })).encoding_format, 'base64');
});

const cases: Array<[string, unknown, string | undefined, RegExp]> = [
  ['not an object', 'x', undefined, /expected an object, got string/],
  ['model missing', { input: 'x' }, 'model', /required field is missing/],
  ['model empty', { model: '', input: 'x' }, 'model', /must not be empty/],
  ['input missing', { model: 'e' }, 'input', /required field is missing/],
  ['empty string', { model: 'e', input: '' }, 'input', /must not be empty/],
  ['empty array', { model: 'e', input: [] }, 'input', /must not be empty/],
  ['too many strings', { model: 'e', input: Array(2049).fill('x') }, 'input', /at most 2048 items/],
  ['empty string in array', { model: 'e', input: ['a', ''] }, 'input[1]', /must not be empty/],
  [
    'mixed strings and tokens',
    { model: 'e', input: ['a', 1] },
    'input[1]',
    /expected a string like the first item, got number/,
  ],
  [
    'mixed tokens and strings',
    { model: 'e', input: [1, 'a'] },
    'input[1]',
    /expected a token id \(integer\), got string/,
  ],
  ['negative token', { model: 'e', input: [1, -1] }, 'input[1]', /must be >= 0/],
  ['fractional token', { model: 'e', input: [1.5] }, 'input[0]', /expected an integer/],
  ['empty token array', { model: 'e', input: [[1], []] }, 'input[1]', /must not be empty/],
  ['token array too long', { model: 'e', input: [Array(2049).fill(1)] }, 'input[0]', /at most 2048 items/],
  [
    'token arrays mixed with a number',
    { model: 'e', input: [[1], 2] },
    'input[1]',
    /array of token ids like the first item/,
  ],
  ['object input', { model: 'e', input: { text: 'x' } }, 'input', /got object/],
  ['array of objects', { model: 'e', input: [{}] }, 'input[0]', /got object/],
  ['bad encoding_format', { model: 'e', input: 'x', encoding_format: 'int8' }, 'encoding_format', /"float", "base64"/],
  ['dimensions zero', { model: 'e', input: 'x', dimensions: 0 }, 'dimensions', /must be >= 1/],
  ['dimensions fractional', { model: 'e', input: 'x', dimensions: 1.5 }, 'dimensions', /expected an integer/],
  ['user too long', { model: 'e', input: 'x', user: 'u'.repeat(257) }, 'user', /at most 256 characters/],
  [
    'unknown field',
    { model: 'e', input: 'x', dimension: 3 },
    'dimension',
    /unknown field \(did you mean "dimensions"\?\)/,
  ],
];

for (const [what, body, param, message] of cases) {
  test(`rejects: ${what}`, () => {
    let err: unknown;
    try {
      parseEmbeddingsRequest(body);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'request.invalid');
    assert.equal(err.param, param);
    assert.match(err.message, message);
  });
}
