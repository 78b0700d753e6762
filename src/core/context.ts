/**
 * The typed request context: one object per request that flows through the stage chain.
 * A stage reads what earlier stages put here by name and writes only its own fields.
 */
import type { Logger } from '../observability/logger.ts';
import type {
  ChatChunk, ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse, FinishReason, Usage,
} from '../providers/canonical.ts';
import type { ModelRouteConfig, TargetConfig } from '../config/types.ts';
import type { ErrorCode } from '../errors/codes.ts';

/** The API dialect the client speaks; decides request parsing, response and error shapes. */
export type Surface = 'openai' | 'anthropic';
export type Operation = 'chat' | 'embeddings' | 'models';

export interface HttpRequestInfo {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** Lower-cased header names, as Node gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The client address: the socket peer (trusted-proxy handling is identity's job). */
  readonly remoteAddress: string;
}

/** Who is calling, set by the identify stage. Never holds the credential itself. */
export interface Caller {
  readonly kind: 'api_key';
  readonly keyId: string;
  /** Non-secret display prefix of the key, for logs and security events. */
  readonly keyPrefix: string;
  readonly tenantId: string;
  readonly label: string;
  /** Model name patterns this caller may use ('*' wildcard). */
  readonly allowedModels: readonly string[];
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
}

export interface RequestContext {
  readonly id: string;
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
  route: ResolvedRoute | undefined;
  response: CanonicalResponse | undefined;
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
