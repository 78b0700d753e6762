import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compact } from './fields.ts';

test('compact leaves out the keys whose value is undefined, keeping the others and their order', () => {
  const input = { model: 'm', stream: undefined, temperature: 0, user: undefined, n: null };
  const out = compact(input);
  assert.deepEqual(Object.keys(out), ['model', 'temperature', 'n']);
  assert.deepEqual(out, { model: 'm', temperature: 0, n: null });
  assert.ok(!('stream' in out));
});

test('compact returns an object with nothing to leave out as it is', () => {
  const input = { model: 'm', messages: [] };
  assert.equal(compact(input), input);
});
