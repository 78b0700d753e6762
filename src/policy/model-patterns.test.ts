import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelAllowed } from './model-patterns.ts';

test('model scope patterns', () => {
  assert.equal(modelAllowed(['*'], 'anything'), true);
  assert.equal(modelAllowed(['gpt-4o'], 'gpt-4o'), true);
  assert.equal(modelAllowed(['gpt-4o'], 'gpt-4o-mini'), false);
  assert.equal(modelAllowed(['gpt-*'], 'gpt-4o-mini'), true);
  assert.equal(modelAllowed(['gpt-*'], 'claude'), false);
  assert.equal(modelAllowed(['meta-llama/*'], 'meta-llama/Llama-3.1-8B'), true);
  // Regex metacharacters in names are literal.
  assert.equal(modelAllowed(['a.b'], 'axb'), false);
  assert.equal(modelAllowed([], 'gpt-4o'), false);
});
