import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyOpenAiError, parseGoDuration } from './errors.ts';
import { createOpenAiAdapter } from './index.ts';
import { readJsonFixture } from './test-fixtures.ts';

const dir = import.meta.dirname;

interface ErrorCase {
  name: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
  expect: { kind: string; retryable: boolean; retryAfterS?: number; providerCode?: string };
}

for (const kind of ['openai', 'openai-compatible'] as const) {
  const adapter = createOpenAiAdapter(kind);
  for (const c of readJsonFixture<ErrorCase[]>(dir, 'errors.json')) {
    test(`${kind} error: ${c.name} → ${c.expect.kind}`, () => {
      const info = adapter.classifyError(c.status, c.headers, c.body ?? undefined);
      assert.equal(info.kind, c.expect.kind);
      assert.equal(info.status, c.status);
      assert.equal(info.retryable, c.expect.retryable);
      assert.equal(info.retryAfterS, c.expect.retryAfterS);
      if (c.expect.providerCode !== undefined) assert.equal(info.providerCode, c.expect.providerCode);
    });
  }
}

test('openai error: the provider message is kept for the log, bounded in size', () => {
  const info = classifyOpenAiError(
    400,
    {},
    { error: { message: 'x'.repeat(5000), type: 'invalid_request_error', code: null } },
  );
  assert.ok(info.providerMessage !== undefined && info.providerMessage.length <= 501);
  assert.equal(info.providerCode, 'invalid_request_error');
});

test('openai error: Retry-After as an HTTP date', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const info = classifyOpenAiError(429, { 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }, undefined, now);
  assert.equal(info.retryAfterS, 30);
});

test('openai error: x-ratelimit-reset durations', () => {
  assert.equal(parseGoDuration('1s'), 1);
  assert.equal(parseGoDuration('6m0s'), 360);
  assert.equal(parseGoDuration('20ms'), 0.02);
  assert.equal(parseGoDuration('1h2m3.5s'), 3723.5);
  assert.equal(parseGoDuration('soon'), undefined);
  assert.equal(parseGoDuration(''), undefined);
  assert.equal(parseGoDuration('5'), undefined);
  // With no remaining-* hint the longer reset wins: retrying earlier would fail again.
  const info = classifyOpenAiError(
    429,
    { 'x-ratelimit-reset-requests': '1s', 'x-ratelimit-reset-tokens': '6m0s' },
    undefined,
  );
  assert.equal(info.retryAfterS, 360);
});
