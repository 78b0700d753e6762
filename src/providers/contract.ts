/**
 * The contract every provider adapter implements. This file imports no provider: the core
 * and the upstream module depend on it, adapters implement it, and `registry.ts` is the one
 * place that knows the list of adapters.
 *
 * An adapter is pure translation: it never does I/O. `upstream/` sends what the adapter
 * builds and hands back what the provider answered.
 */
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  ClientChatBody,
  ClientEmbeddingsBody,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from './canonical.ts';

export type ProviderKind = 'openai' | 'openai-compatible' | 'anthropic' | 'gemini' | 'mistral';

export const PROVIDER_KINDS: readonly ProviderKind[] = [
  'openai',
  'openai-compatible',
  'anthropic',
  'gemini',
  'mistral',
];

/** What a provider can honour; the route stage uses it to reject (or drop) what it cannot. */
export interface ProviderCapabilities {
  readonly streaming: boolean;
  readonly tools: boolean;
  /** Can honour `parallel_tool_calls: false` (turn parallel calls off). */
  readonly parallelToolCalls: boolean;
  readonly jsonObject: boolean;
  readonly jsonSchema: boolean;
  readonly images: boolean;
  /** More than one choice per request (`n` > 1). */
  readonly multipleChoices: boolean;
  readonly seed: boolean;
  readonly logprobs: boolean;
  readonly logitBias: boolean;
  readonly penalties: boolean;
  readonly embeddings: boolean;
}

/** Everything an adapter needs to know about the call it translates. */
export interface AdapterCallContext {
  /** The provider's own model id (the route target's `model`). */
  readonly upstreamModel: string;
  /** The public model name the client asked for; responses carry this name. */
  readonly publicModel: string;
  /** The provider credential, already resolved from config. Adapters put it in headers only. */
  readonly credential: string | undefined;
  /** The gateway's request id; adapters use it to build stable response/chunk ids. */
  readonly requestId: string;
  /** Unix seconds, for `created`. */
  readonly created: number;
}

/** An HTTP request for `upstream/` to send. `path` is appended to the provider's base URL. */
export interface UpstreamHttpRequest {
  readonly method: 'POST' | 'GET';
  /** Starts with '/'; may carry a query string (e.g. Gemini's `?alt=sse`). */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON body, serialised by `upstream/`. */
  readonly body?: unknown;
  /** A body already serialised (the same-dialect fast path); sent as it is, instead of `body`. */
  readonly bodyText?: string;
  /** True when the provider will answer with a server-sent-event stream. */
  readonly stream: boolean;
}

/** One parsed server-sent event (the `event:` and `data:` fields; multi-line data joined by \n). */
export interface SseEvent {
  readonly event: string | undefined;
  readonly data: string;
}

/**
 * Translates one upstream stream into canonical chunks, event by event, keeping whatever state
 * the provider's event sequence needs (open content blocks, tool-call indexes, usage).
 * The canonical stream it produces always ends with a chunk carrying `finish_reason` for every
 * choice and, when the provider reported usage, a final chunk with `choices: []` and `usage`.
 */
export interface StreamTranslator {
  /** Translate one event. Throws `UpstreamProtocolError` on an event it cannot make sense of. */
  push(event: SseEvent): ChatChunk[];
  /**
   * The upstream stream has ended. Returns any final chunks; throws `UpstreamProtocolError`
   * when the stream ended before the provider's own terminal event (a broken stream).
   */
  end(): ChatChunk[];
  /** True once the provider's terminal event was seen (the stream may be closed). */
  readonly done: boolean;
}

export type UpstreamErrorKind =
  | 'rate_limited' // 429
  | 'overloaded' // 503, Anthropic 529
  | 'server_error' // other 5xx
  | 'bad_request' // 400, 404 model unknown, 422
  | 'auth' // 401/403: the gateway's credential is wrong
  | 'payload_too_large'
  | 'content_filter'
  | 'unknown';

/** A provider error, classified. `providerMessage` and `providerCode` go to logs only. */
export interface UpstreamErrorInfo {
  readonly kind: UpstreamErrorKind;
  readonly status: number;
  /** Whether a retry or fallback could succeed (429, 5xx, overloaded). */
  readonly retryable: boolean;
  readonly retryAfterS?: number | undefined;
  readonly providerCode?: string | undefined;
  readonly providerMessage?: string | undefined;
}

/** Thrown by adapters when a provider's response or stream is malformed. */
export class UpstreamProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamProtocolError';
  }
}

export interface ProviderAdapter {
  readonly kind: ProviderKind;
  readonly capabilities: ProviderCapabilities;

  /** Headers that authenticate to the provider (e.g. `authorization`, `x-api-key`). */
  authHeaders(credential: string | undefined): Record<string, string>;

  chatRequest(req: ChatRequest, ctx: AdapterCallContext): UpstreamHttpRequest;
  /**
   * The same-dialect fast path (adapters whose wire format is the client's): the request built
   * from the client's own body, or undefined when that body cannot say exactly what
   * `chatRequest(client.request, ctx)` would; the caller then uses `chatRequest`.
   */
  forwardChatRequest?(client: ClientChatBody, ctx: AdapterCallContext): UpstreamHttpRequest | undefined;
  /** Throws `UpstreamProtocolError` when the body is not a valid response of this provider. */
  chatResponse(body: unknown, ctx: AdapterCallContext): ChatResponse;
  chatStream(req: ChatRequest, ctx: AdapterCallContext): StreamTranslator;

  /** Present when `capabilities.embeddings`. */
  embeddingsRequest?(req: EmbeddingsRequest, ctx: AdapterCallContext): UpstreamHttpRequest;
  /** The same-dialect fast path for embeddings (see `forwardChatRequest`). */
  forwardEmbeddingsRequest?(client: ClientEmbeddingsBody, ctx: AdapterCallContext): UpstreamHttpRequest | undefined;
  /** `req` is the canonical request this body answers (usage estimates, encoding choice). */
  embeddingsResponse?(body: unknown, ctx: AdapterCallContext, req: EmbeddingsRequest): EmbeddingsResponse;

  /**
   * OpenAI family only: a moderation request (`POST /moderations`), which a guardrail judge
   * uses. Its answer is handed back as parsed JSON; the judge reads the verdict.
   */
  moderationsRequest?(input: readonly string[], ctx: AdapterCallContext): UpstreamHttpRequest;

  /**
   * Classify a non-2xx answer. `headers` are lower-cased; `body` is the parsed JSON body
   * (or the raw text when it was not JSON, or undefined when empty).
   */
  classifyError(status: number, headers: Readonly<Record<string, string>>, body: unknown): UpstreamErrorInfo;
}

/** Parse an HTTP Retry-After value (delta-seconds or HTTP-date) into seconds, or undefined. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const s = Number(trimmed);
    return Number.isFinite(s) ? s : undefined;
  }
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, (at - now) / 1000);
}
