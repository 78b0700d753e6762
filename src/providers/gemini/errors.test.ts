import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UpstreamErrorKind } from '../contract.ts';
import { classifyError } from './errors.ts';
import { fixtureJson } from './test-support.ts';

interface Case {
  fixture: string;
  status: number;
  kind: UpstreamErrorKind;
  retryable: boolean;
  providerCode: string;
  retryAfterS?: number;
}

const cases: Case[] = [
  {
    fixture: 'error-400-invalid-argument.json',
    status: 400,
    kind: 'bad_request',
    retryable: false,
    providerCode: 'INVALID_ARGUMENT',
  },
  {
    fixture: 'error-400-failed-precondition.json',
    status: 400,
    kind: 'bad_request',
    retryable: false,
    providerCode: 'FAILED_PRECONDITION',
  },
  {
    fixture: 'error-400-api-key-invalid.json',
    status: 400,
    kind: 'auth',
    retryable: false,
    providerCode: 'INVALID_ARGUMENT',
  },
  {
    fixture: 'error-401-unauthenticated.json',
    status: 401,
    kind: 'auth',
    retryable: false,
    providerCode: 'UNAUTHENTICATED',
  },
  {
    fixture: 'error-403-permission-denied.json',
    status: 403,
    kind: 'auth',
    retryable: false,
    providerCode: 'PERMISSION_DENIED',
  },
  {
    fixture: 'error-404-not-found.json',
    status: 404,
    kind: 'bad_request',
    retryable: false,
    providerCode: 'NOT_FOUND',
  },
  {
    fixture: 'error-429-resource-exhausted.json',
    status: 429,
    kind: 'rate_limited',
    retryable: true,
    providerCode: 'RESOURCE_EXHAUSTED',
    retryAfterS: 30,
  },
  { fixture: 'error-500-internal.json', status: 500, kind: 'server_error', retryable: true, providerCode: 'INTERNAL' },
  {
    fixture: 'error-503-unavailable.json',
    status: 503,
    kind: 'overloaded',
    retryable: true,
    providerCode: 'UNAVAILABLE',
  },
  {
    fixture: 'error-504-deadline-exceeded.json',
    status: 504,
    kind: 'server_error',
    retryable: true,
    providerCode: 'DEADLINE_EXCEEDED',
  },
];

describe('gemini classifyError', () => {
  for (const c of cases) {
    it(`classifies ${c.fixture}`, () => {
      const info = classifyError(c.status, {}, fixtureJson(c.fixture));
      assert.equal(info.kind, c.kind);
      assert.equal(info.status, c.status);
      assert.equal(info.retryable, c.retryable);
      assert.equal(info.providerCode, c.providerCode);
      assert.equal(info.retryAfterS, c.retryAfterS);
      assert.ok((info.providerMessage ?? '').length > 0, 'the provider message is kept for the log');
    });
  }

  it('prefers the retry-after header over RetryInfo', () => {
    const info = classifyError(429, { 'retry-after': '7' }, fixtureJson('error-429-resource-exhausted.json'));
    assert.equal(info.retryAfterS, 7);
  });

  it('reads fractional protobuf durations from RetryInfo', () => {
    const body = {
      error: {
        code: 503,
        status: 'UNAVAILABLE',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }],
      },
    };
    assert.equal(classifyError(503, {}, body).retryAfterS, 1.5);
    const odd = {
      error: { code: 429, details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: 'soon' }] },
    };
    assert.equal(classifyError(429, {}, odd).retryAfterS, undefined);
  });

  it('copes with bodies that are not Google error JSON', () => {
    const text = classifyError(502, {}, '<html>Bad Gateway</html>');
    assert.deepEqual(
      [text.kind, text.retryable, text.providerMessage],
      ['server_error', true, '<html>Bad Gateway</html>'],
    );
    const empty = classifyError(413, {}, undefined);
    assert.deepEqual([empty.kind, empty.retryable, empty.providerMessage], ['payload_too_large', false, undefined]);
    assert.equal(classifyError(418, {}, { error: 'teapot' }).kind, 'bad_request');
    assert.equal(classifyError(302, {}, null).kind, 'unknown');
  });

  it('caps the logged provider message', () => {
    const info = classifyError(400, {}, { error: { message: 'x'.repeat(5000), status: 'INVALID_ARGUMENT' } });
    assert.equal(info.providerMessage?.length, 1000);
  });
});
