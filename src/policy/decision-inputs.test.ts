import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Caller } from '../core/context.ts';
import { assertDecisionInputs, decisionInputsOf, networkClass } from './decision-inputs.ts';

const caller: Caller = {
  kind: 'jwt',
  keyId: 'jwt:abc',
  keyPrefix: 'jwt',
  tenantId: 't',
  label: 'u',
  allowedModels: ['*'],
  subject: 'alice',
  issuer: 'https://idp.example',
};

test('a chat request becomes counts and sizes, never its text', () => {
  const secret = 'the launch code is 0000';
  const inputs = decisionInputsOf(
    {
      operation: 'chat',
      body: {
        model: 'gpt',
        messages: [
          { role: 'system', content: secret },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'hi', cache_control: { type: 'ephemeral', ttl: '1h' } },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(40)}` } },
            ],
          },
        ],
        tools: [{ type: 'function', function: { name: 'lookup' } }],
        max_completion_tokens: 77,
        n: 2,
      },
    },
    caller,
    '10.1.2.3',
  );
  assert.deepEqual(inputs, {
    callerKind: 'jwt',
    issuer: 'https://idp.example',
    network: 'private',
    items: 2,
    tools: 1,
    images: 1,
    largestImageBytes: 30,
    promptChars: secret.length + 2 + 'lookup'.length,
    promptTokens: inputs?.promptTokens,
    maxTokensField: 'max_completion_tokens',
    maxTokens: 77,
    n: 2,
    cacheHint: '1h',
  });
  assert.ok((inputs?.promptTokens ?? 0) > 1000, 'the image allowance is in the estimate');
  assert.ok(!JSON.stringify(inputs).includes('launch'));
  assert.doesNotThrow(() => assertDecisionInputs(JSON.parse(JSON.stringify(inputs))));
});

test('model listings and anonymous requests have none', () => {
  assert.equal(decisionInputsOf({ operation: 'models', modelId: undefined }, caller, '127.0.0.1'), undefined);
  assert.equal(
    decisionInputsOf({ operation: 'embeddings', body: { model: 'e', input: 'x' } }, undefined, '127.0.0.1'),
    undefined,
  );
});

test('network classes name the kind of address, not the address', () => {
  const cases: Array<[string | undefined, string]> = [
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['192.168.1.9', 'private'],
    ['172.20.0.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd00::1', 'private'],
    ['203.0.113.9', 'public'],
    ['2001:db8::1', 'public'],
    ['not an ip', 'unknown'],
    [undefined, 'unknown'],
  ];
  for (const [ip, cls] of cases) assert.equal(networkClass(ip), cls, String(ip));
});
