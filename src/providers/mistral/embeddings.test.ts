import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGatewayError } from '../../errors/gateway-error.ts';
import { UpstreamProtocolError } from '../contract.ts';
import { readJsonFixture, testContext } from '../openai/test-fixtures.ts';
import { capabilities, createMistralAdapter } from './index.ts';

const dir = import.meta.dirname;
const adapter = createMistralAdapter();

test('mistral embeddings: request uses the upstream model and Mistral field names', () => {
  const http = adapter.embeddingsRequest!(
    {
      model: 'embed-eu',
      input: ['Embed this sentence.', 'As well as this one.'],
      dimensions: 512,
      encoding_format: 'float',
      user: 'u1',
    },
    testContext({ upstreamModel: 'codestral-embed' }),
  );
  assert.equal(http.path, '/embeddings');
  assert.deepEqual(http.body, {
    model: 'codestral-embed',
    input: ['Embed this sentence.', 'As well as this one.'],
    encoding_format: 'float',
    output_dimension: 512,
  });
});

test('mistral embeddings: token-id input is refused as an unsupported parameter', () => {
  assert.throws(
    () =>
      adapter.embeddingsRequest!({ model: 'embed-eu', input: [[1, 2, 3]] }, testContext({ publicModel: 'embed-eu' })),
    (e: unknown) => isGatewayError(e) && e.code === 'request.unsupported_parameter' && e.status === 400,
  );
});

test('mistral embeddings: response under the public model', () => {
  const req = { model: 'embed-eu', input: ['Embed this sentence.', 'As well as this one.'] };
  const res = adapter.embeddingsResponse!(
    readJsonFixture(dir, 'embeddings-response.json'),
    testContext({ publicModel: 'embed-eu' }),
    req,
  );
  assert.equal(res.model, 'embed-eu');
  assert.equal(res.object, 'list');
  assert.deepEqual(
    res.data.map((d) => d.index),
    [0, 1],
  );
  assert.deepEqual(res.usage, { prompt_tokens: 15, total_tokens: 15 });
  assert.throws(
    () =>
      adapter.embeddingsResponse!(
        { object: 'list', data: [{ index: 0 }], usage: { prompt_tokens: 1, total_tokens: 1 } },
        testContext(),
        { model: 'e', input: 'x' },
      ),
    UpstreamProtocolError,
  );
});

test('mistral capabilities: no logprobs or logit_bias, everything else documented', () => {
  assert.equal(adapter.capabilities, capabilities.mistral);
  assert.equal(adapter.capabilities.logprobs, false);
  assert.equal(adapter.capabilities.logitBias, false);
  assert.equal(adapter.capabilities.multipleChoices, true);
  assert.equal(adapter.capabilities.seed, true);
  assert.equal(adapter.kind, 'mistral');
});
