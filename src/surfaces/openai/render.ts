/**
 * What an OpenAI-surface client receives: the error object, the SSE framing of a chat stream,
 * and the model list. Shapes follow OpenAI's API reference, so the official SDKs parse them.
 */

import type { ErrorCode } from '../../errors/codes.ts';
import { errorSpec, type OpenAiErrorType } from '../../errors/codes.ts';
import type { GatewayError } from '../../errors/gateway-error.ts';
import type { ChatChunk, ChatResponse, ModelInfo, Usage } from '../../providers/canonical.ts';

export interface OpenAiErrorBody {
  error: { message: string; type: OpenAiErrorType; param: string | null; code: ErrorCode };
}

/** The error body, built only from the catalogue and public params: never internal detail. */
export function openAiErrorBody(err: GatewayError): OpenAiErrorBody {
  return {
    error: {
      message: err.publicMessage,
      type: errorSpec(err.code).openaiType,
      param: err.param ?? null,
      code: err.code,
    },
  };
}

/**
 * One SSE event. JSON.stringify escapes every CR and LF inside strings, so model output can
 * never end the event early or forge a `data: [DONE]` line.
 */
export function chatChunkToSse(chunk: ChatChunk): string {
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';

/**
 * The event sent when a stream fails after the 200 and headers are out. OpenAI's SDKs read a
 * `data:` event whose JSON has an `error` member as a failure and throw an APIError from it.
 */
export function streamErrorEvent(err: GatewayError): string {
  return `data: ${JSON.stringify(openAiErrorBody(err))}\n\n`;
}

/**
 * Usage as OpenAI reports it. Canonical `prompt_tokens_details` also carries the gateway's own
 * prompt-cache write counts (for pricing); OpenAI's object has no such member, so only
 * `cached_tokens` goes out.
 */
export function openAiUsage(usage: Usage): Usage {
  const details = usage.prompt_tokens_details;
  if (
    details === undefined ||
    (details.cache_write_tokens === undefined && details.cache_write_1h_tokens === undefined)
  )
    return usage;
  const out: Usage = {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.total_tokens,
  };
  out.prompt_tokens_details =
    details.cached_tokens === undefined ? { cached_tokens: 0 } : { cached_tokens: details.cached_tokens };
  return out;
}

/** A chat completion as an OpenAI client receives it (usage restricted to OpenAI's fields). */
export function openAiChatBody(body: ChatResponse): ChatResponse {
  return body.usage === undefined ? body : { ...body, usage: openAiUsage(body.usage) };
}

/**
 * Applies `stream_options.include_usage` to a canonical chunk. Providers report usage whether
 * asked or not; OpenAI sends it only on request, as a final chunk with `choices: []`, and then
 * puts `usage: null` on every other chunk. Returns undefined for a chunk not to send.
 */
export function prepareChunkForClient(chunk: ChatChunk, includeUsage: boolean): ChatChunk | undefined {
  if (includeUsage)
    return chunk.usage === undefined
      ? { ...chunk, usage: null }
      : chunk.usage === null
        ? chunk
        : { ...chunk, usage: openAiUsage(chunk.usage) };
  if (chunk.choices.length === 0) return undefined;
  if (!('usage' in chunk)) return chunk;
  const { usage: _dropped, ...rest } = chunk;
  return rest;
}

export interface ModelListEntry {
  readonly id: string;
  readonly created: number;
  readonly owned_by: string;
}

export function modelBody(model: ModelListEntry): ModelInfo {
  return { id: model.id, object: 'model', created: model.created, owned_by: model.owned_by };
}

export function modelsListBody(models: readonly ModelListEntry[]): { object: 'list'; data: ModelInfo[] } {
  return { object: 'list', data: models.map(modelBody) };
}
