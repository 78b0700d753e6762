/** OpenAI's POST /embeddings: validation, deterministic vectors, float or base64 encoding. */
import { DEFAULT_EMBEDDING_DIMENSIONS, embedText, toBase64Float32 } from '../core/embedding.ts';
import type { ErrorReply } from '../core/http.ts';
import { countTokens } from '../core/tokenizer.ts';
import { isObject, type JsonObject } from '../core/types.ts';
import { invalidRequest } from './errors.ts';

const INVALID_INPUT =
  "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";
const MAX_INPUTS = 2048;

/** Each input as text plus its token count (token-id arrays count one token per id). */
type Inputs = { text: string; tokens: number }[];

function readInputs(input: unknown, countTokens: (text: string) => number): Inputs | undefined {
  const isTokenArray = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x));
  if (typeof input === 'string') return input.length > 0 ? [{ text: input, tokens: countTokens(input) }] : undefined;
  if (isTokenArray(input)) return [{ text: input.join(' '), tokens: input.length }];
  if (!Array.isArray(input) || input.length === 0 || input.length > MAX_INPUTS) return undefined;
  const out: Inputs = [];
  for (const item of input) {
    if (typeof item === 'string' && item.length > 0) out.push({ text: item, tokens: countTokens(item) });
    else if (isTokenArray(item)) out.push({ text: item.join(' '), tokens: item.length });
    else return undefined;
  }
  return out;
}

export type EmbeddingsOutcome =
  | { readonly ok: true; readonly body: JsonObject }
  | { readonly ok: false; readonly error: ErrorReply };

/** `count`: the model's own tokenizer when known (OpenAI's embedding models use cl100k_base). */
export function openAiEmbeddings(body: unknown, count: (text: string) => number = countTokens): EmbeddingsOutcome {
  if (!isObject(body)) return { ok: false, error: invalidRequest(INVALID_INPUT) };
  if (typeof body['model'] !== 'string' || body['model'].length === 0)
    return { ok: false, error: invalidRequest('you must provide a model parameter') };
  if (body['input'] === undefined)
    return {
      ok: false,
      error: invalidRequest("Missing required parameter: 'input'.", 'input', 'missing_required_parameter'),
    };
  const inputs = readInputs(body['input'], count);
  if (inputs === undefined) return { ok: false, error: invalidRequest(INVALID_INPUT) };
  const format = body['encoding_format'] ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    return {
      ok: false,
      error: invalidRequest(
        `Invalid value: '${String(format)}'. Supported values are: 'float' and 'base64'.`,
        'encoding_format',
        'invalid_value',
      ),
    };
  }
  const dims = body['dimensions'] ?? DEFAULT_EMBEDDING_DIMENSIONS;
  if (typeof dims !== 'number' || !Number.isInteger(dims) || dims < 1 || dims > 3072) {
    return {
      ok: false,
      error: invalidRequest(
        `Invalid value for 'dimensions' = ${JSON.stringify(dims)}. Must be an integer between 1 and 3072.`,
        'dimensions',
      ),
    };
  }
  let tokens = 0;
  const data = inputs.map((input, index) => {
    tokens += input.tokens;
    const vector = embedText(input.text, dims);
    return { object: 'embedding', index, embedding: format === 'base64' ? toBase64Float32(vector) : vector };
  });
  return {
    ok: true,
    body: { object: 'list', data, model: body['model'], usage: { prompt_tokens: tokens, total_tokens: tokens } },
  };
}
