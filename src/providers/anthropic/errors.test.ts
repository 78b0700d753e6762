import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readJsonFixture } from './fixtures/read-fixture.ts';
import { createAnthropicAdapter } from './index.ts';

const adapter = createAnthropicAdapter();

interface ErrorSample {
  status: number;
  headers: Record<string, string>;
  body: { error: { message: string } };
  expect: { kind: string; retryable: boolean; providerCode: string; retryAfterS?: number };
}

test('each documented error answer is classified by status and error type', () => {
  for (const sample of readJsonFixture('errors.json') as ErrorSample[]) {
    const info = adapter.classifyError(sample.status, sample.headers, sample.body);
    assert.equal(info.kind, sample.expect.kind, String(sample.status));
    assert.equal(info.status, sample.status);
    assert.equal(info.retryable, sample.expect.retryable, String(sample.status));
    assert.equal(info.providerCode, sample.expect.providerCode);
    assert.equal(info.providerMessage, sample.body.error.message);
    assert.equal(info.retryAfterS, sample.expect.retryAfterS);
  }
});

test('503 is overloaded; an overloaded_error type is overloaded whatever the status', () => {
  assert.equal(adapter.classifyError(503, {}, undefined).kind, 'overloaded');
  assert.equal(
    adapter.classifyError(500, {}, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }).kind,
    'overloaded',
  );
  assert.equal(adapter.classifyError(529, { 'retry-after': '3' }, undefined).retryAfterS, 3);
});

test('a CDN 413 page or an empty body still classifies, keeping only a bounded excerpt for the log', () => {
  const html = `<html>${'x'.repeat(5000)}</html>`;
  const info = adapter.classifyError(413, {}, html);
  assert.equal(info.kind, 'payload_too_large');
  assert.equal(info.retryable, false);
  assert.ok((info.providerMessage ?? '').length <= 500);
  assert.equal(adapter.classifyError(502, {}, undefined).kind, 'server_error');
  assert.equal(adapter.classifyError(422, {}, undefined).kind, 'bad_request');
  assert.equal(
    adapter.classifyError(402, {}, { type: 'error', error: { type: 'billing_error', message: 'x' } }).retryable,
    false,
  );
});

test('a retry-after hint is not reported for errors that must not be retried', () => {
  assert.equal(adapter.classifyError(400, { 'retry-after': '5' }, undefined).retryAfterS, undefined);
});
