import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../errors/gateway-error.ts';
import { expectArray, expectNumber, expectObject, joinPath, rejectUnknownKeys } from './validation.ts';

function errOf(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GatewayError);
    return e;
  }
  assert.fail('expected a GatewayError');
}

test('joinPath builds readable JSON paths', () => {
  assert.equal(joinPath('', 'messages'), 'messages');
  assert.equal(joinPath(joinPath('messages', 2), 'content'), 'messages[2].content');
  assert.equal(joinPath('metadata', 'a-b'), 'metadata["a-b"]');
});

test('errors name the path and the problem', () => {
  const e = errOf(() => expectNumber('x', 'temperature'));
  assert.equal(e.code, 'request.invalid');
  assert.equal(e.status, 400);
  assert.equal(e.param, 'temperature');
  assert.match(e.message, /temperature: expected a number, got string/);
  assert.match(errOf(() => expectNumber(3, 'n', { max: 2 })).message, /n: must be <= 2/);
  assert.match(errOf(() => expectArray([], 'messages', { minItems: 1 })).message, /messages: must not be empty/);
  assert.match(errOf(() => expectObject([], '')).message, /\(body\): expected an object, got array/);
});

test('unknown keys are rejected by name', () => {
  const e = errOf(() => rejectUnknownKeys({ model: 'x', tempreature: 1 }, new Set(['model']), ''));
  assert.equal(e.param, 'tempreature');
  assert.match(e.message, /unknown field/);
});
