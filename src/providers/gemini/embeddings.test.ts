import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../errors/gateway-error.ts';
import type { EmbeddingsRequest } from '../canonical.ts';
import { UpstreamProtocolError } from '../contract.ts';
import { createEmbeddings } from './embeddings.ts';
import { callContext, fixtureJson } from './test-support.ts';

const ctx = callContext({ upstreamModel: 'gemini-embedding-001', publicModel: 'embed-small' });
const inputs = ['What is the meaning of life?', 'How much wood would a woodchuck chuck?', 'How does the brain work?'];

describe('gemini embeddings', () => {
  it('builds one batchEmbedContents request per input, in order', () => {
    const out = createEmbeddings().embeddingsRequest({ model: 'embed-small', input: inputs, dimensions: 768 }, ctx);
    assert.equal(out.path, '/models/gemini-embedding-001:batchEmbedContents');
    assert.equal(out.method, 'POST');
    assert.equal(out.stream, false);
    assert.equal(out.headers['x-goog-api-key'], 'test-gemini-key-not-real');
    assert.deepEqual(out.body, {
      requests: inputs.map((text) => ({
        model: 'models/gemini-embedding-001',
        content: { parts: [{ text }] },
        outputDimensionality: 768,
      })),
    });
  });

  it('accepts a single string', () => {
    const out = createEmbeddings().embeddingsRequest({ model: 'embed-small', input: 'hello' }, ctx);
    assert.deepEqual(out.body, {
      requests: [{ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'hello' }] } }],
    });
  });

  it('refuses token-id input as an unsupported parameter', () => {
    for (const input of [
      [1, 2, 3],
      [[1, 2], [3]],
    ] as EmbeddingsRequest['input'][]) {
      assert.throws(
        () => createEmbeddings().embeddingsRequest({ model: 'embed-small', input }, ctx),
        (e: unknown) => {
          assert.ok(e instanceof GatewayError);
          assert.equal(e.code, 'request.unsupported_parameter');
          assert.equal(e.param, 'input');
          return true;
        },
      );
    }
    assert.throws(() => createEmbeddings().embeddingsRequest({ model: 'embed-small', input: [] }, ctx), GatewayError);
  });

  it('translates the response fixture and estimates usage from the input length', () => {
    const e = createEmbeddings();
    const req = { model: 'embed-small', input: inputs };
    e.embeddingsRequest(req, ctx);
    const res = e.embeddingsResponse(fixtureJson('batch-embed-contents-response.json'), ctx, req);
    assert.equal(res.object, 'list');
    assert.equal(res.model, 'embed-small');
    assert.deepEqual(
      res.data.map((d) => [d.object, d.index]),
      [
        ['embedding', 0],
        ['embedding', 1],
        ['embedding', 2],
      ],
    );
    assert.deepEqual(res.data[0]?.embedding, [0.0027359414, -0.0100217545, 0.0091781579, -0.07235218]);
    const chars = inputs.join('').length;
    assert.deepEqual(res.usage, { prompt_tokens: Math.ceil(chars / 4), total_tokens: Math.ceil(chars / 4) });
  });

  it('answers base64 as little-endian float32 when the client asked for it', () => {
    const e = createEmbeddings();
    const req = { model: 'embed-small', input: inputs, encoding_format: 'base64' as const };
    e.embeddingsRequest(req, ctx);
    const res = e.embeddingsResponse(fixtureJson('batch-embed-contents-response.json'), ctx, req);
    const encoded = res.data[1]?.embedding;
    assert.equal(typeof encoded, 'string');
    const bytes = Buffer.from(encoded as string, 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    const expected = [-0.0151963225, 0.0034526135, 0.016224407, -0.0433818].map((v) => Math.fround(v));
    assert.deepEqual(decoded, expected);
  });

  it('rejects malformed embedding responses', () => {
    const e = createEmbeddings();
    for (const body of [null, {}, { embeddings: [{}] }, { embeddings: [{ values: ['1'] }] }]) {
      assert.throws(() => e.embeddingsResponse(body, ctx, { model: 'embed-small', input: 'x' }), UpstreamProtocolError);
    }
  });
});
