import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateTokens } from './estimate.ts';

describe('token estimate', () => {
  it('is prompt characters / 4 plus max_tokens (or max_completion_tokens), times n', () => {
    const body = { model: 'm', messages: [{ role: 'user' as const, content: 'x'.repeat(396) }] };
    // (4 role chars + 396) / 4 = 100, plus 4 framing tokens.
    assert.equal(estimateTokens({ operation: 'chat', body: { ...body, max_tokens: 50 } }, 1024), 154);
    assert.equal(
      estimateTokens({ operation: 'chat', body: { ...body, max_completion_tokens: 70, max_tokens: 50 } }, 1024),
      174,
    );
    assert.equal(estimateTokens({ operation: 'chat', body: { ...body, max_tokens: 50, n: 3 } }, 1024), 254);
  });

  it('uses the configured default when the request sets no maximum', () => {
    const body = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] };
    assert.equal(estimateTokens({ operation: 'chat', body }, 1024), 2 + 4 + 1024);
  });

  it('counts images at a fixed size, not their base64 length', () => {
    const url = `data:image/png;base64,${'A'.repeat(400_000)}`;
    const body = {
      model: 'm',
      messages: [{ role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url } }] }],
      max_tokens: 0,
    };
    assert.equal(estimateTokens({ operation: 'chat', body }, 1024), 1 + 4 + 1000);
  });

  it('estimates embeddings from their input, strings or token arrays', () => {
    assert.equal(estimateTokens({ operation: 'embeddings', body: { model: 'e', input: 'x'.repeat(40) } }, 1024), 10);
    assert.equal(estimateTokens({ operation: 'embeddings', body: { model: 'e', input: [[1, 2, 3], [4]] } }, 1024), 4);
  });
});
