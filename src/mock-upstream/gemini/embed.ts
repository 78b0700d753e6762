/** Gemini's :embedContent and :batchEmbedContents with deterministic vectors. */
import { DEFAULT_EMBEDDING_DIMENSIONS, embedText } from '../core/embedding.ts';
import type { ErrorReply } from '../core/http.ts';
import { isObject, type JsonObject } from '../core/types.ts';
import { invalidArgument } from './errors.ts';
import { arrayField, field } from './fields.ts';

export type EmbedOutcome =
  | { readonly ok: true; readonly body: JsonObject }
  | { readonly ok: false; readonly error: ErrorReply };

function embedOne(request: unknown, where: string): { values: number[] } | ErrorReply {
  const content = field(request, 'content');
  if (!isObject(content)) return invalidArgument(`* ${where}.content: content is not specified\n`);
  const parts = arrayField(content, 'parts').filter(isObject);
  if (parts.length === 0) return invalidArgument(`* ${where}.content.parts: contents.parts must not be empty.\n`);
  const text = parts.map((p) => (typeof p['text'] === 'string' ? p['text'] : '')).join('\n');
  const dims = field(request, 'outputDimensionality') ?? DEFAULT_EMBEDDING_DIMENSIONS;
  if (typeof dims !== 'number' || !Number.isInteger(dims) || dims < 1 || dims > 3072) {
    return invalidArgument(`* ${where}.output_dimensionality: output_dimensionality must be between 1 and 3072.\n`);
  }
  return { values: embedText(text, dims) };
}

export function geminiEmbedContent(body: unknown): EmbedOutcome {
  const out = embedOne(body, 'EmbedContentRequest');
  return 'values' in out ? { ok: true, body: { embedding: out } } : { ok: false, error: out };
}

export function geminiBatchEmbed(body: unknown, urlModel: string): EmbedOutcome {
  const requests = field(body, 'requests');
  if (!Array.isArray(requests) || requests.length === 0)
    return { ok: false, error: invalidArgument('* BatchEmbedContentsRequest.requests: requests is not specified\n') };
  const embeddings: { values: number[] }[] = [];
  for (let i = 0; i < requests.length; i++) {
    const where = `BatchEmbedContentsRequest.requests[${i}]`;
    const model = field(requests[i], 'model');
    if (model !== undefined && model !== `models/${urlModel}`) {
      return {
        ok: false,
        error: invalidArgument(
          `* ${where}.model: model must match the model in the request URL (models/${urlModel}).\n`,
        ),
      };
    }
    const out = embedOne(requests[i], where);
    if (!('values' in out)) return { ok: false, error: out };
    embeddings.push(out);
  }
  return { ok: true, body: { embeddings } };
}
