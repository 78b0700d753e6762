import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatRequest } from '../canonical.ts';
import { createGeminiAdapter } from './index.ts';
import { callContext, fixtureJson, fixtureText, parseSse } from './test-support.ts';

describe('createGeminiAdapter', () => {
  const adapter = createGeminiAdapter();
  const ctx = callContext();

  it('declares what Gemini can and cannot do', () => {
    assert.equal(adapter.kind, 'gemini');
    assert.deepEqual(
      { ...adapter.capabilities },
      {
        streaming: true,
        tools: true,
        parallelToolCalls: false,
        jsonObject: true,
        jsonSchema: true,
        images: true,
        multipleChoices: true,
        seed: true,
        logprobs: false,
        logitBias: false,
        penalties: true,
        embeddings: true,
      },
    );
    assert.ok(Object.isFrozen(adapter.capabilities));
  });

  it('authenticates with x-goog-api-key only', () => {
    assert.deepEqual(adapter.authHeaders('k-123'), { 'x-goog-api-key': 'k-123' });
    assert.deepEqual(adapter.authHeaders(undefined), {});
  });

  it('runs a streamed chat end to end through the adapter', () => {
    const req: ChatRequest = { model: 'gemini-flash', messages: [{ role: 'user', content: 'story' }], stream: true };
    assert.equal(adapter.chatRequest(req, ctx).path, '/models/gemini-2.0-flash:streamGenerateContent?alt=sse');
    const t = adapter.chatStream(req, ctx);
    const chunks = parseSse(fixtureText('stream-text.sse')).flatMap((e) => t.push(e));
    assert.equal(t.done, true);
    assert.ok(chunks.length > 0);
    assert.deepEqual(t.end(), []);
  });

  it('wires the whole-response, embeddings and error translators', () => {
    assert.equal(adapter.chatResponse(fixtureJson('response-multi-candidate.json'), ctx).choices.length, 2);
    assert.ok(adapter.embeddingsRequest && adapter.embeddingsResponse);
    const req = { model: 'e', input: ['a', 'b', 'c'] };
    adapter.embeddingsRequest(req, ctx);
    assert.equal(
      adapter.embeddingsResponse(fixtureJson('batch-embed-contents-response.json'), ctx, req).data.length,
      3,
    );
    assert.equal(adapter.classifyError(429, {}, fixtureJson('error-429-resource-exhausted.json')).retryAfterS, 30);
  });
});
