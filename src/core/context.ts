/**
 * The typed request context: one object per request that flows through the stage chain.
 * A stage reads what earlier stages put here by name and writes only its own fields.
 */

import type { ErrorCode } from '../errors/codes.ts';
import type { Logger } from '../observability/logger.ts';
import type { RequestSpans } from '../observability/trace/spans.ts';
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingsRequest,
  EmbeddingsResponse,
  FinishReason,
  Usage,
} from '../providers/canonical.ts';
import type { ModelRouteConfig, TargetConfig } from '../providers/config-types.ts';

/** The API dialect the client speaks; decides request parsing, response and error shapes. */
export type Surface = 'openai' | 'anthropic';
export type Operation = 'chat' | 'embeddings' | 'models';

export interface HttpRequestInfo {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** The raw query string without `?` ('' when none); only read to refuse credentials sent in the URL. */
  readonly query?: string;
  /** Lower-cased header names, as Node gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The socket peer, as Node reports it. */
  readonly remoteAddress: string;
  /**
   * The client's address after `server.trusted_proxies` handling (src/server/client-ip.ts), in
   * canonical form (IPv4-mapped IPv6 as IPv4). Set by the HTTP handler for every request; use it,
   * not remoteAddress, for lockout, allowlists, limits and audit. Optional only for hand-built test contexts.
   */
  readonly clientIp?: string;
  /** The verified client certificate when the HTTPS listener asked for one (mutual TLS). */
  readonly clientCert?: ClientCertInfo;
}

/** A client certificate the listener verified against `server.tls.client_ca_file`. */
export interface ClientCertInfo {
  /** Subject distinguished name, e.g. "CN=billing-service, O=Acme". */
  readonly subject: string;
  readonly issuer: string;
  /** SHA-256 of the DER certificate, colon-separated upper-case hex (as openssl prints it). */
  readonly fingerprint256: string;
  readonly serialNumber: string;
  readonly validTo: string;
}

/** Who is calling, set by the identify stage. Never holds the credential itself. */
export interface Caller {
  /**
   * How the caller authenticated: a virtual API key, a JWT access token from a configured issuer,
   * or (`client_cert`) a verified mutual-TLS client certificate mapped by `auth.client_certificates`.
   */
  readonly kind: 'api_key' | 'jwt' | 'client_cert';
  /** API keys: the key's id. JWT: `jwt:` + a short hash of issuer and subject (bounded, stable). */
  readonly keyId: string;
  /** Non-secret display prefix of the key, for logs and security events (`jwt` for tokens). */
  readonly keyPrefix: string;
  readonly tenantId: string;
  readonly label: string;
  /** Model name patterns this caller may use ('*' wildcard). */
  readonly allowedModels: readonly string[];
  /** JWT callers: the token's user claim (`sub` by default). Certificate callers: the certificate's subject DN. */
  readonly subject?: string;
  /** JWT callers: the issuer that vouched for them. */
  readonly issuer?: string;
  /** JWT callers: the team claim, when the token carries one. */
  readonly teamId?: string;
  /** JWT callers: the token's scopes (space-separated `scope` claim or a list). */
  readonly scopes?: readonly string[];
}

export type CanonicalRequest =
  | { readonly operation: 'chat'; readonly body: ChatRequest }
  | { readonly operation: 'embeddings'; readonly body: EmbeddingsRequest }
  | { readonly operation: 'models'; readonly modelId: string | undefined };

export type CanonicalResponse =
  | { readonly kind: 'chat'; readonly body: ChatResponse }
  | { readonly kind: 'chat-stream'; stream: AsyncIterable<ChatChunk> }
  | { readonly kind: 'embeddings'; readonly body: EmbeddingsResponse }
  | { readonly kind: 'json'; readonly status: number; readonly body: unknown };

export interface ResolvedRoute {
  readonly publicModel: string;
  readonly config: ModelRouteConfig;
}

/** What happened, filled in as the request goes; read by meter/audit in onFinish. */
export interface Outcome {
  status: number;
  errorCode: ErrorCode | undefined;
  usage: Usage | undefined;
  finishReason: FinishReason | null | undefined;
  /** The target that served (or last failed) the request. */
  target: TargetConfig | undefined;
  attempts: number;
  /** ms since start when the first response byte went to the client. */
  firstByteMs: number | undefined;
  /** True when the client went away before the response completed. */
  clientAborted: boolean;
  /**
   * Tokens and cost as metered (src/cost/): set by the budget stage when it settles, so the
   * request record shows exactly what the budget was charged; otherwise the meter computes it.
   */
  metered?: MeteredUsage;
  /**
   * Guardrail detectors that fired on this request, as `detector:action` (`pii:redact`,
   * `injection:block`, `judge:error`), set by the guard stage; the request record stores them.
   */
  guard?: string[];
}

/**
 * Fields a feature adds to the context, declared by the feature itself (TypeScript declaration
 * merging: `declare module '../core/context.ts' { interface RequestFeatureSlots { … } }`), so
 * that core names no feature. Prompt APIs add `promptApi` this way (src/apis/call.ts).
 */
// biome-ignore lint/suspicious/noEmptyInterface: features merge their fields into it
export interface RequestFeatureSlots {}

export interface RequestContext extends RequestFeatureSlots {
  readonly id: string;
  /**
   * W3C trace context (src/observability/trace/): the trace this request belongs to (the
   * caller's, from a valid `traceparent`, or a new one), the gateway's span for it, and the
   * trace-flags to propagate. Always set by the HTTP handler; optional only so hand-built
   * contexts in unit tests need not invent them.
   */
  readonly traceId?: string;
  readonly spanId?: string;
  readonly traceFlags?: number;
  /** The request's spans when tracing is on and the trace is sampled (src/observability/trace/). */
  readonly spans?: RequestSpans;
  /**
   * The live policy version the request runs under (the runtime snapshot it started with,
   * src/live-policy/runtime.ts); undefined when the gateway runs its config file without versions.
   */
  readonly policyVersion?: number;
  /** performance.now() at arrival. */
  readonly startedAt: number;
  readonly receivedAt: Date;
  readonly surface: Surface;
  readonly operation: Operation;
  readonly http: HttpRequestInfo;
  /** Aborted when the client disconnects or the gateway shuts down past its grace period. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Reads the body (once), enforcing the size limit. Rejects with a GatewayError. */
  readBody(): Promise<Buffer>;

  caller: Caller | undefined;
  request: CanonicalRequest | undefined;
  /** Set by the validate stage for Anthropic-surface requests: the client's original body. */
  surfaceRequest: unknown;
  /**
   * Set by the validate stage: what policy decisions read about the request (counts, sizes,
   * the token estimate; never text), as the client sent it. The request record keeps it so the
   * request can be replayed against another policy (src/live-policy/replay.ts).
   */
  decisionInputs?: DecisionInputs;
  route: ResolvedRoute | undefined;
  response: CanonicalResponse | undefined;
  /**
   * Headers a stage adds to a successful response (e.g. the limit stage's RateLimit fields).
   * Lower-case names; refusals carry their headers on the GatewayError instead.
   */
  responseHeaders?: Record<string, string>;
  readonly outcome: Outcome;
}

export function newOutcome(): Outcome {
  return {
    status: 0,
    errorCode: undefined,
    usage: undefined,
    finishReason: undefined,
    target: undefined,
    attempts: 0,
    firstByteMs: undefined,
    clientAborted: false,
  };
}

/** Tokens and cost as metered (src/cost/meter-usage.ts computes them; the budget stage may settle them first). */
export interface MeteredUsage {
  /** Reported or estimated tokens; undefined when no model work was done (or none is known). */
  readonly usage: Usage | undefined;
  readonly estimated: boolean;
  /** Prompt tokens read from the provider's cache (part of prompt_tokens). */
  readonly cachedTokens: number | null;
  /** Prompt tokens written to the provider's cache (part of prompt_tokens, apart from cachedTokens). */
  readonly cacheWriteTokens: number | null;
  /** Integer µ$; null when tokens were used but the model has no price. 0 when nothing was used. */
  readonly costMicros: number | null;
  /** The price table version used; null when no price applied. */
  readonly priceVersion: string | null;
}

/**
 * What policy decisions read about a request (src/policy/decision-inputs.ts computes it); core
 * owns the shape because the context and the request record carry it.
 */
export const NETWORK_CLASSES = ['loopback', 'private', 'public', 'unknown'] as const;
export type NetworkClass = (typeof NETWORK_CLASSES)[number];

export interface DecisionInputs {
  /** How the caller authenticated (limits and budgets count users only for JWT callers). */
  readonly callerKind: Caller['kind'];
  /** JWT callers: the issuer (user-scoped counters are per issuer and subject). */
  readonly issuer?: string;
  /** Chat: messages; embeddings: inputs. */
  readonly items: number;
  readonly tools: number;
  readonly images: number;
  /** The largest inline image's decoded bytes (0: none inline). */
  readonly largestImageBytes: number;
  /** Prompt characters as the payload caps count them. */
  readonly promptChars: number;
  /** The prompt part of the token estimate limits reserve (src/limits/estimate.ts). */
  readonly promptTokens: number;
  /** The completion cap the client asked for, and in which field (absent: none asked). */
  readonly maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  readonly maxTokens?: number;
  /** Choices asked for (`n`); 1 when absent. */
  readonly n: number;
  /** The dearest prompt-cache write the request's hints can cause. */
  readonly cacheHint: 'none' | '5m' | '1h';
  readonly network: NetworkClass;
}
