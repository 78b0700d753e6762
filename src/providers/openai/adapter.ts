/**
 * The adapter for OpenAI itself and for OpenAI-compatible servers. Both speak the canonical wire
 * format; they differ in credentials (optional for local servers), in a few request details
 * (see `OpenAiBodyOptions`) and in the capabilities the route stage may count on.
 */
import type { ChatRequest, ClientChatBody, ClientEmbeddingsBody, EmbeddingsRequest } from '../canonical.ts';
import type { AdapterCallContext, ProviderAdapter, UpstreamHttpRequest } from '../contract.ts';
import { OPENAI_CAPABILITIES, OPENAI_COMPATIBLE_CAPABILITIES } from './capabilities.ts';
import { createOpenAiDialect } from './chat-dialect.ts';
import { buildOpenAiEmbeddingsBody, parseEmbeddingsResponse } from './embeddings.ts';
import { classifyOpenAiError } from './errors.ts';
import { forwardOpenAiChatBody, forwardOpenAiEmbeddingsBody } from './forward.ts';
import { buildOpenAiChatBody } from './request.ts';
import { parseChatCompletion } from './response.ts';
import { createChunkStreamTranslator } from './stream.ts';

export type OpenAiAdapterKind = 'openai' | 'openai-compatible';

/** `Authorization: Bearer …`, or nothing when no credential is configured. */
export function bearerAuth(credential: string | undefined): Record<string, string> {
  // Only openai-compatible providers may lack a credential (config enforces it); for OpenAI an
  // absent key yields a 401 upstream, which is reported as `upstream.misconfigured`.
  return credential === undefined || credential === '' ? {} : { authorization: `Bearer ${credential}` };
}

export function jsonHeaders(credential: string | undefined, stream: boolean): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    ...bearerAuth(credential),
  };
}

export function createOpenAiAdapter(kind: OpenAiAdapterKind): ProviderAdapter {
  const compatible = kind === 'openai-compatible';
  const dialectFor = (ctx: AdapterCallContext) => createOpenAiDialect(kind, ctx.requestId);
  return {
    kind,
    capabilities: compatible ? OPENAI_COMPATIBLE_CAPABILITIES : OPENAI_CAPABILITIES,
    authHeaders: bearerAuth,

    chatRequest(req: ChatRequest, ctx: AdapterCallContext): UpstreamHttpRequest {
      const stream = req.stream === true;
      return {
        method: 'POST',
        path: '/chat/completions',
        headers: jsonHeaders(ctx.credential, stream),
        body: buildOpenAiChatBody(req, { upstreamModel: ctx.upstreamModel, compatible }),
        stream,
      };
    },
    forwardChatRequest(client: ClientChatBody, ctx: AdapterCallContext): UpstreamHttpRequest | undefined {
      const bodyText = forwardOpenAiChatBody(client, { upstreamModel: ctx.upstreamModel, compatible });
      if (bodyText === undefined) return undefined;
      const stream = client.request.stream === true;
      return {
        method: 'POST',
        path: '/chat/completions',
        headers: jsonHeaders(ctx.credential, stream),
        bodyText,
        stream,
      };
    },
    chatResponse: (body, ctx) => parseChatCompletion(body, ctx, dialectFor(ctx)),
    chatStream: (_req, ctx) => createChunkStreamTranslator(ctx, dialectFor(ctx)),

    embeddingsRequest(req: EmbeddingsRequest, ctx: AdapterCallContext): UpstreamHttpRequest {
      return {
        method: 'POST',
        path: '/embeddings',
        headers: jsonHeaders(ctx.credential, false),
        body: buildOpenAiEmbeddingsBody(req, ctx.upstreamModel),
        stream: false,
      };
    },
    forwardEmbeddingsRequest(client: ClientEmbeddingsBody, ctx: AdapterCallContext): UpstreamHttpRequest | undefined {
      const bodyText = forwardOpenAiEmbeddingsBody(client, ctx.upstreamModel);
      if (bodyText === undefined) return undefined;
      return {
        method: 'POST',
        path: '/embeddings',
        headers: jsonHeaders(ctx.credential, false),
        bodyText,
        stream: false,
      };
    },
    embeddingsResponse: parseEmbeddingsResponse,

    moderationsRequest(input: readonly string[], ctx: AdapterCallContext): UpstreamHttpRequest {
      return {
        method: 'POST',
        path: '/moderations',
        headers: jsonHeaders(ctx.credential, false),
        body: { model: ctx.upstreamModel, input: [...input] },
        stream: false,
      };
    },

    classifyError: (status, headers, body) => classifyOpenAiError(status, headers, body),
  };
}
