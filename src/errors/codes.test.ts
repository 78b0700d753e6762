import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES, type ErrorCode } from './codes.ts';
import { GatewayError } from './gateway-error.ts';
import { ERRORS_DOC_PATH, renderErrorsDoc } from './render-docs.ts';

test('docs/errors.md is in sync with the catalogue (run `node src/errors/render-docs.ts`)', () => {
  assert.equal(readFileSync(ERRORS_DOC_PATH, 'utf8'), renderErrorsDoc());
});

test('every code is namespaced, has a 4xx/5xx status and a public message', () => {
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^[a-z]+\.[a-z_]+$/, code);
    assert.ok(spec.status >= 400 && spec.status <= 599, code);
    assert.ok(spec.message.length > 0 && spec.doc.length > 0, code);
  }
});

test('public messages fill placeholders and neutralise control characters', () => {
  const e = new GatewayError('model.not_found', { params: { model: 'evil\r\nX-Injected: 1' } });
  assert.equal(e.status, 404);
  assert.equal(e.message, 'The model evil??X-Injected: 1 does not exist or you do not have access to it.');
  const long = new GatewayError('model.not_found', { params: { model: 'a'.repeat(5000) } });
  assert.ok(long.message.length < 400);
});

test('internal detail never reaches the public message', () => {
  const code: ErrorCode = 'upstream.rejected_request';
  const e = new GatewayError(code, { internal: { providerMessage: 'Incorrect API key provided: sk-secret' } });
  assert.doesNotMatch(e.publicMessage, /sk-secret/);
});
