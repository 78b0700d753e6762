import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gatewayError } from '../../errors/gateway-error.ts';
import { messagesErrorBody, messagesStreamErrorEvent } from './index.ts';

test("errors use Anthropic's shape and error types, with the public message only", () => {
  const err = gatewayError('upstream.overloaded', { internal: { providerMessage: 'secret upstream detail' } });
  assert.deepEqual(messagesErrorBody(err), {
    type: 'error',
    error: { type: 'overloaded_error', message: 'The model provider is overloaded. Retry later.' },
  });
  assert.ok(!JSON.stringify(messagesErrorBody(err)).includes('secret'));
  assert.equal(
    messagesErrorBody(gatewayError('request.too_large', { params: { limit: 10 } })).error.type,
    'request_too_large',
  );
  assert.equal(messagesErrorBody(gatewayError('auth.invalid_key')).error.type, 'authentication_error');
  assert.equal(
    messagesErrorBody(gatewayError('model.not_found', { params: { model: 'x' } })).error.type,
    'not_found_error',
  );
  const invalid = messagesErrorBody(
    gatewayError('request.invalid', { params: { path: 'max_tokens', detail: 'must be >= 1' } }),
  );
  assert.deepEqual(invalid.error, {
    type: 'invalid_request_error',
    message: 'Invalid request at max_tokens: must be >= 1.',
  });
});

test('a mid-stream error is an `error` event carrying the same body', () => {
  const err = gatewayError('upstream.stream_interrupted');
  assert.deepEqual(messagesStreamErrorEvent(err), {
    event: 'error',
    data: { type: 'error', error: { type: 'api_error', message: "The model provider's stream ended unexpectedly." } },
  });
});
