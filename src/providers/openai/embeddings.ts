/**
 * Embeddings: the request is copied field by field with the upstream model id; the answer is
 * checked and returned under the public model name. Mistral answers in the same shape and
 * reuses the parser. The answer is checked against the request: one vector per input, in the
 * encoding asked for.
 */
import type { EmbeddingsRequest, EmbeddingsResponse } from '../canonical.ts';
import type { AdapterCallContext } from '../contract.ts';
import { protocolError, wireArray, wireCount, wireNumberArray, wireObject, wireString } from './wire-check.ts';

export function buildOpenAiEmbeddingsBody(req: EmbeddingsRequest, upstreamModel: string): Record<string, unknown> {
  const body: Record<string, unknown> = { model: upstreamModel, input: copyInput(req.input) };
  if (req.encoding_format !== undefined) body.encoding_format = req.encoding_format;
  if (req.dimensions !== undefined) body.dimensions = req.dimensions;
  if (req.user !== undefined) body.user = req.user;
  return body;
}

function copyInput(input: EmbeddingsRequest['input']): EmbeddingsRequest['input'] {
  if (typeof input === 'string') return input;
  return (input as Array<string | number | number[]>).map((x) =>
    Array.isArray(x) ? [...x] : x,
  ) as EmbeddingsRequest['input'];
}

export function parseEmbeddingsResponse(
  body: unknown,
  ctx: AdapterCallContext,
  req: EmbeddingsRequest,
): EmbeddingsResponse {
  const root = wireObject(body, '');
  if (root.object !== undefined && root.object !== 'list') throw protocolError('object', 'expected "list"');
  const wantBase64 = req.encoding_format === 'base64';
  const data = wireArray(root.data, 'data').map((raw, i) => {
    const path = `data[${i}]`;
    const item = wireObject(raw, path);
    if (item.object !== undefined && item.object !== 'embedding')
      throw protocolError(`${path}.object`, 'expected "embedding"');
    const embedding = wantBase64
      ? wireString(item.embedding, `${path}.embedding`)
      : wireNumberArray(item.embedding, `${path}.embedding`);
    return { object: 'embedding' as const, index: wireCount(item.index, `${path}.index`), embedding };
  });
  const expected = inputCount(req.input);
  if (data.length !== expected) throw protocolError('data', `expected ${expected} embeddings, got ${data.length}`);
  return { object: 'list', data, model: ctx.publicModel, usage: readUsage(root.usage, req.input) };
}

function inputCount(input: EmbeddingsRequest['input']): number {
  if (typeof input === 'string') return 1;
  // A flat number array is one tokenised input; an array of arrays is several.
  return input.length > 0 && input.every((x) => typeof x === 'number') ? 1 : input.length;
}

function readUsage(raw: unknown, input: EmbeddingsRequest['input']): EmbeddingsResponse['usage'] {
  if (raw === undefined || raw === null) {
    // Some compatible servers report no usage; meter an estimate rather than fail a good answer.
    const tokens = estimateTokens(input);
    return { prompt_tokens: tokens, total_tokens: tokens };
  }
  const usage = wireObject(raw, 'usage');
  return {
    prompt_tokens: wireCount(usage.prompt_tokens, 'usage.prompt_tokens'),
    total_tokens: wireCount(usage.total_tokens, 'usage.total_tokens'),
  };
}

/** About four characters per token for text; exact for pre-tokenised input. */
function estimateTokens(input: EmbeddingsRequest['input']): number {
  const items: Array<string | number | number[]> = typeof input === 'string' ? [input] : input;
  let tokens = 0;
  for (const item of items) {
    if (typeof item === 'string') tokens += Math.ceil(item.length / 4);
    else if (typeof item === 'number') tokens += 1;
    else tokens += item.length;
  }
  return tokens;
}
