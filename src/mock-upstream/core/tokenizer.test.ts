import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { embedText } from './embedding.ts';
import { fillSchema } from './schema-fill.ts';
import { countTokens, splitIntoPieces, truncateToTokens } from './tokenizer.ts';

describe('tokenizer', () => {
  it('counts word runs and punctuation runs', () => {
    assert.equal(countTokens(''), 0);
    assert.equal(countTokens('Hello, world!'), 4);
    assert.equal(countTokens('  été 2024 ... ok?! '), 5);
    assert.equal(countTokens('{"a":1}'), 5);
  });

  it('splits into pieces that concatenate to the text and add up to its token count', () => {
    const samples = ['Hello, world! How are you?', '  leading and trailing  ', '{"city":"Paris","n":1}', 'x', ''];
    for (const text of samples) {
      for (const per of [1, 2, 3, 10]) {
        const pieces = splitIntoPieces(text, per);
        assert.equal(pieces.join(''), text);
        assert.equal(
          pieces.reduce((n, p) => n + countTokens(p), 0),
          countTokens(text),
        );
        for (const p of pieces.slice(0, -1)) assert.equal(countTokens(p), per);
      }
    }
    assert.deepEqual(splitIntoPieces('Hello world', 1), ['Hello', ' world']);
  });

  it('truncates to a token budget', () => {
    assert.deepEqual(truncateToTokens('a b c', 2), { text: 'a b', truncated: true });
    assert.deepEqual(truncateToTokens('a b', 2), { text: 'a b', truncated: false });
  });
});

describe('schema filling', () => {
  it('fills required properties by type, following $ref, enums, anyOf and bounds', () => {
    const schema = {
      type: 'object',
      properties: {
        s: { type: 'string' },
        n: { type: 'number', minimum: 5 },
        i: { type: 'integer', maximum: 0 },
        b: { type: 'boolean' },
        e: { enum: ['x', 'y'] },
        u: { anyOf: [{ type: 'null' }, { type: 'string' }] },
        r: { $ref: '#/$defs/pt' },
        opt: { type: 'string' },
        list: { type: 'array', items: { type: 'integer' } },
      },
      required: ['s', 'n', 'i', 'b', 'e', 'u', 'r', 'list'],
      $defs: { pt: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } },
    };
    assert.deepEqual(fillSchema(schema, 'hi'), {
      s: 'hi',
      n: 5,
      i: 0,
      b: true,
      e: 'x',
      u: 'hi',
      r: { x: 1 },
      list: [1],
    });
  });
});

describe('embeddings', () => {
  it('are deterministic, unit length and text-dependent', () => {
    const a = embedText('hello', 16);
    assert.deepEqual(a, embedText('hello', 16));
    assert.notDeepEqual(a, embedText('hello!', 16));
    assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-6);
  });
});
