/**
 * The Mistral adapter (La Plateforme, `https://api.mistral.ai/v1`). Mistral answers in
 * OpenAI's shape, so the OpenAI response parser and stream translator are reused with Mistral's
 * dialect; requests and errors are Mistral's own.
 */
import type { ChatRequest, EmbeddingsRequest } from '../canonical.ts';
import type { AdapterCallContext, ProviderAdapter, UpstreamHttpRequest } from '../contract.ts';
import { bearerAuth, jsonHeaders } from '../openai/adapter.ts';
import { parseEmbeddingsResponse } from '../openai/embeddings.ts';
import { parseChatCompletion } from '../openai/response.ts';
import { createChunkStreamTranslator } from '../openai/stream.ts';
import { MISTRAL_CAPABILITIES } from './capabilities.ts';
import { createMistralDialect } from './dialect.ts';
import { buildMistralEmbeddingsBody } from './embeddings.ts';
import { classifyMistralError } from './errors.ts';
import { buildMistralChatBody } from './request.ts';

export function createMistralAdapter(): ProviderAdapter {
  return {
    kind: 'mistral',
    capabilities: MISTRAL_CAPABILITIES,
    authHeaders: bearerAuth,

    chatRequest(req: ChatRequest, ctx: AdapterCallContext): UpstreamHttpRequest {
      const stream = req.stream === true;
      return {
        method: 'POST',
        path: '/chat/completions',
        headers: jsonHeaders(ctx.credential, stream),
        body: buildMistralChatBody(req, ctx.upstreamModel),
        stream,
      };
    },
    chatResponse: (body, ctx) => parseChatCompletion(body, ctx, createMistralDialect(ctx.requestId)),
    chatStream: (_req, ctx) => createChunkStreamTranslator(ctx, createMistralDialect(ctx.requestId)),

    embeddingsRequest(req: EmbeddingsRequest, ctx: AdapterCallContext): UpstreamHttpRequest {
      return {
        method: 'POST',
        path: '/embeddings',
        headers: jsonHeaders(ctx.credential, false),
        body: buildMistralEmbeddingsBody(req, ctx),
        stream: false,
      };
    },
    embeddingsResponse: parseEmbeddingsResponse,

    classifyError: (status, headers, body) => classifyMistralError(status, headers, body),
  };
}
