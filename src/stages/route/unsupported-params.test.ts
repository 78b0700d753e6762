import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProviderCapabilities } from '../../providers/contract.ts';
import { dropFields, unsupportedFields } from './unsupported-params.ts';

const none: ProviderCapabilities = {
  streaming: true,
  tools: false,
  parallelToolCalls: false,
  jsonObject: false,
  jsonSchema: false,
  images: false,
  multipleChoices: false,
  seed: false,
  logprobs: false,
  logitBias: false,
  penalties: false,
  embeddings: false,
};

test('names every field the provider cannot honour, with its path', () => {
  const bad = unsupportedFields(
    {
      model: 'm',
      n: 2,
      seed: 1,
      logit_bias: { '1': 2 },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'image_url', image_url: { url: 'https://x/y.png' } },
          ],
        },
      ],
      response_format: { type: 'json_object' },
    },
    none,
  );
  assert.deepEqual(
    bad.map((b) => b.path),
    ['n', 'seed', 'logit_bias', 'response_format', 'messages[0].content[1]'],
  );
  assert.deepEqual(
    bad.map((b) => b.droppable),
    [true, true, true, false, false],
  );
});

test('n = 1 is always fine; drop removes only the named fields', () => {
  const req = { model: 'm', n: 1, seed: 3, temperature: 0.5, messages: [{ role: 'user' as const, content: 'x' }] };
  assert.deepEqual(
    unsupportedFields(req, none).map((b) => b.path),
    ['seed'],
  );
  assert.deepEqual(dropFields(req, ['seed']), { model: 'm', n: 1, temperature: 0.5, messages: req.messages });
});
