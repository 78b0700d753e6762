import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readJsonFixture } from '../openai/test-fixtures.ts';
import { createMistralAdapter } from './index.ts';

const dir = import.meta.dirname;
const adapter = createMistralAdapter();

interface ErrorCase {
  name: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
  expect: { kind: string; retryable: boolean; retryAfterS?: number; providerCode?: string; providerMessage?: string };
}

for (const c of readJsonFixture<ErrorCase[]>(dir, 'errors.json')) {
  test(`mistral error: ${c.name} → ${c.expect.kind}`, () => {
    const info = adapter.classifyError(c.status, c.headers, c.body ?? undefined);
    assert.equal(info.kind, c.expect.kind);
    assert.equal(info.status, c.status);
    assert.equal(info.retryable, c.expect.retryable);
    assert.equal(info.retryAfterS, c.expect.retryAfterS);
    if (c.expect.providerCode !== undefined) assert.equal(info.providerCode, c.expect.providerCode);
    if (c.expect.providerMessage !== undefined) assert.equal(info.providerMessage, c.expect.providerMessage);
  });
}

test('mistral error: validation detail never copies the rejected input into the log', () => {
  const info = adapter.classifyError(
    422,
    {},
    {
      object: 'error',
      message: {
        detail: [
          {
            type: 'string_too_long',
            loc: ['body', 'messages', 0, 'content'],
            msg: 'String should have at most 10 characters',
            input: 'my secret prompt text',
          },
        ],
      },
      type: 'invalid_request_error',
      param: null,
      code: null,
    },
  );
  assert.equal(info.providerMessage, 'body.messages.0.content: String should have at most 10 characters');
  assert.doesNotMatch(info.providerMessage ?? '', /secret/);
});
