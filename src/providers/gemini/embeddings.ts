/**
 * Canonical embeddings ↔ Gemini `models/{model}:batchEmbedContents`. One batch call serves
 * both a single string and a list; the response keeps the request order.
 */

import { invalid } from '../../surfaces/validation.ts';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../canonical.ts';
import type { AdapterCallContext, UpstreamHttpRequest } from '../contract.ts';
import { protocol } from './candidate.ts';
import { authHeaders, bareModelId, modelPath, unsupportedParameter } from './request.ts';
import type { GeminiBatchEmbedContentsRequest } from './wire-types.ts';

export interface GeminiEmbeddings {
  embeddingsRequest(req: EmbeddingsRequest, ctx: AdapterCallContext): UpstreamHttpRequest;
  embeddingsResponse(body: unknown, ctx: AdapterCallContext, req: EmbeddingsRequest): EmbeddingsResponse;
}

export function createEmbeddings(): GeminiEmbeddings {
  return {
    embeddingsRequest(req, ctx) {
      const texts = inputTexts(req, ctx);
      const model = `models/${bareModelId(ctx.upstreamModel)}`;
      const body: GeminiBatchEmbedContentsRequest = {
        requests: texts.map((text) => ({
          model,
          content: { parts: [{ text }] },
          ...(req.dimensions !== undefined ? { outputDimensionality: req.dimensions } : {}),
        })),
      };
      return {
        method: 'POST',
        path: modelPath(ctx.upstreamModel, 'batchEmbedContents'),
        headers: { 'content-type': 'application/json', ...authHeaders(ctx.credential) },
        body,
        stream: false,
      };
    },

    embeddingsResponse(body, ctx, req) {
      const vectors = readEmbeddings(body);
      // Gemini's embed responses carry no token counts. An estimate, not a count: about four
      // characters per token for English text, the rule of thumb Google gives for its models.
      const promptTokens = Math.ceil(countChars(inputTexts(req, ctx)) / 4);
      const base64 = req.encoding_format === 'base64';
      return {
        object: 'list',
        data: vectors.map((values, index) => ({
          object: 'embedding',
          index,
          embedding: base64 ? toBase64(values) : values,
        })),
        model: ctx.publicModel,
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      };
    },
  };
}

function inputTexts(req: EmbeddingsRequest, ctx: AdapterCallContext): string[] {
  const input = req.input;
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0)
    throw invalid('input', 'must be a string or a non-empty array of strings');
  // Token-id input (number[] or number[][]) is tied to OpenAI's tokenizer; Gemini embeds text only.
  if (input.some((item) => typeof item !== 'string')) throw unsupportedParameter('input', ctx);
  return input as string[];
}

function countChars(texts: readonly string[]): number {
  // Code points, not UTF-16 units, so astral characters are not counted twice.
  return texts.reduce((sum, t) => sum + [...t].length, 0);
}

function readEmbeddings(body: unknown): number[][] {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw protocol('embeddings response is not an object');
  const list = (body as Record<string, unknown>)['embeddings'];
  if (!Array.isArray(list)) throw protocol('embeddings response has no embeddings array');
  return list.map((item, i) => {
    const values = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)['values'] : undefined;
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw protocol(`embeddings[${i}].values is not an array of numbers`);
    }
    return values as number[];
  });
}

/** OpenAI's base64 encoding: the vector as little-endian float32, base64-encoded. */
function toBase64(values: readonly number[]): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => {
    view.setFloat32(i * 4, v, true);
  });
  return Buffer.from(view.buffer).toString('base64');
}
