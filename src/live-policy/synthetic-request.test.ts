import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Caller, CanonicalRequest } from '../core/context.ts';
import { decisionInputsOf } from '../policy/decision-inputs.ts';
import { sampleRequestRecord } from '../store/contract-fixtures.ts';
import { syntheticRequest } from './synthetic-request.ts';

const caller: Caller = {
  kind: 'api_key',
  keyId: 'k',
  keyPrefix: 'pcl_x',
  tenantId: 't',
  label: 'k',
  allowedModels: ['*'],
};

const requests: Array<[string, CanonicalRequest]> = [
  ['a plain chat', { operation: 'chat', body: { model: 'gpt', messages: [{ role: 'user', content: 'hello there' }] } }],
  [
    'a conversation with a system prompt, tools, images, max_tokens, n and caching',
    {
      operation: 'chat',
      body: {
        model: 'gpt',
        stream: true,
        messages: [
          { role: 'system', content: 'You are a careful assistant who answers in French.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Décris cette image', cache_control: { type: 'ephemeral' } },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${'QUJD'.repeat(50)}=` } },
              { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
            ],
          },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }],
          },
          { role: 'tool', tool_call_id: 'call_1', content: 'result' },
        ],
        tools: [
          { type: 'function', function: { name: 'lookup', description: 'Look it up', parameters: { type: 'object' } } },
        ],
        max_tokens: 300,
        n: 3,
      },
    },
  ],
  ['embeddings', { operation: 'embeddings', body: { model: 'embed', input: ['one', 'two two'] } }],
];

test('a synthetic body has the decision inputs of the request it stands for', () => {
  for (const [name, req] of requests) {
    const inputs = decisionInputsOf(req, caller, '127.0.0.1')!;
    const record = sampleRequestRecord({
      operation: req.operation === 'embeddings' ? 'embeddings' : 'chat',
      model: req.operation === 'models' ? null : req.body.model,
      stream: req.operation === 'chat' && req.body.stream === true,
      decisionInputs: inputs,
    });
    const synthetic = syntheticRequest(record, inputs);
    const again = decisionInputsOf(synthetic, caller, '127.0.0.1');
    if (req.operation === 'embeddings') {
      assert.deepEqual([again?.items, again?.promptChars], [inputs.items, inputs.promptChars], name);
      continue;
    }
    assert.deepEqual(again, inputs, name);
    assert.equal(synthetic.operation === 'chat' && synthetic.body.stream === true, record.stream, name);
  }
});
