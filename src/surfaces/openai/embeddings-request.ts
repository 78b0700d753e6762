/**
 * Strict validation of an OpenAI Embeddings request body into the canonical
 * `EmbeddingsRequest`. OpenAI's reference: the input is a non-empty string, an array of
 * strings, an array of token ids or an array of token-id arrays, and any array holds at most
 * 2048 items.
 */
import type { EmbeddingsRequest } from '../../providers/canonical.ts';
import {
  expectArray,
  expectEnum,
  expectObject,
  expectString,
  invalid,
  type Json,
  joinPath,
  typeName,
} from '../validation.ts';
import { checkFields, compact, expectInteger, nullable, required } from './fields.ts';

const MAX_INPUT_ITEMS = 2048;
const MAX_MODEL_CHARS = 256;
const MAX_USER_CHARS = 256;
/** Token ids are non-negative and fit in 32 bits in every published tokenizer. */
const MAX_TOKEN_ID = 2 ** 32 - 1;

const EMBEDDINGS_FIELDS = new Set(['model', 'input', 'encoding_format', 'dimensions', 'user']);

export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  const obj = expectObject(body, '');
  checkFields(obj, '', EMBEDDINGS_FIELDS);
  return compact({
    model: required(obj, 'model', '', (v, p) => {
      const model = expectString(v, p, { minLength: 1, maxLength: MAX_MODEL_CHARS });
      if (/[\u0000-\u001f\u007f]/.test(model)) throw invalid(p, 'must not contain control characters');
      return model;
    }),
    input: required(obj, 'input', '', parseInput),
    encoding_format: nullable(obj, 'encoding_format', '', (v, p) => expectEnum(v, p, ['float', 'base64'] as const)),
    dimensions: nullable(obj, 'dimensions', '', (v, p) => expectInteger(v, p, { min: 1 })),
    user: nullable(obj, 'user', '', (v, p) => expectString(v, p, { maxLength: MAX_USER_CHARS })),
  });
}

function parseInput(v: Json, path: string): EmbeddingsRequest['input'] {
  if (typeof v === 'string') return expectString(v, path, { minLength: 1 });
  if (!Array.isArray(v))
    throw invalid(path, `expected a string, an array of strings or an array of token ids, got ${typeName(v)}`);
  const items = expectArray(v, path, { minItems: 1, maxItems: MAX_INPUT_ITEMS });
  // The first item decides which of the three array forms this is; the rest must match it.
  const first = items[0];
  if (typeof first === 'string') {
    return items.map((s, i) => {
      const p = joinPath(path, i);
      if (typeof s !== 'string') throw invalid(p, `expected a string like the first item, got ${typeName(s)}`);
      return expectString(s, p, { minLength: 1 });
    });
  }
  if (typeof first === 'number') return parseTokens(items, path);
  if (Array.isArray(first)) {
    return items.map((tokens, i) => {
      const p = joinPath(path, i);
      if (!Array.isArray(tokens))
        throw invalid(p, `expected an array of token ids like the first item, got ${typeName(tokens)}`);
      return parseTokens(expectArray(tokens, p, { minItems: 1, maxItems: MAX_INPUT_ITEMS }), p);
    });
  }
  throw invalid(joinPath(path, 0), `expected a string, a token id or an array of token ids, got ${typeName(first)}`);
}

function parseTokens(items: Json[], path: string): number[] {
  return items.map((t, i) => {
    const p = joinPath(path, i);
    if (typeof t !== 'number') throw invalid(p, `expected a token id (integer), got ${typeName(t)}`);
    return expectInteger(t, p, { min: 0, max: MAX_TOKEN_ID });
  });
}
