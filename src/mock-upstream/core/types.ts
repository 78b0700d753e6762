/** Shared types of the provider emulator. */
export type MockProvider = 'openai' | 'openai-compatible' | 'anthropic' | 'gemini' | 'mistral';

export const MOCK_PROVIDERS: readonly MockProvider[] = [
  'openai',
  'openai-compatible',
  'anthropic',
  'gemini',
  'mistral',
];

export interface MockUpstreamOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** The credential each provider expects; missing entries use DEFAULT_MOCK_KEYS. */
  keys?: Partial<Record<MockProvider, string>>;
  /** Delay before a non-streaming answer / before stream headers. */
  latencyMs?: number;
  /** Streaming: delay before the first content event. */
  ttftMs?: number;
  /** Streaming: delay between content events. */
  interTokenMs?: number;
  /** Tokens per streamed content event (default 1). */
  chunkTokens?: number;
  /** Recorded requests kept for GET /__mock/requests (oldest dropped first); default 1000. */
  maxRecordedRequests?: number;
}

/** A fault queued through POST /__mock/faults (or MockUpstream.addFault). */
export interface MockFault {
  provider?: MockProvider;
  model?: string;
  /** How many matching requests it applies to; default 1. */
  times?: number;
  status?: 400 | 401 | 403 | 404 | 408 | 413 | 422 | 429 | 500 | 502 | 503 | 504 | 529;
  retryAfterS?: number;
  /** Wait this long before answering (a timeout, seen from the caller). */
  hangMs?: number;
  /** Destroy the socket after this many stream events (non-streaming: mid-body). */
  breakStreamAfterEvents?: number;
  /** Destroy the socket without answering. */
  dropConnection?: boolean;
  /**
   * OpenAI-family only: answer without any usage, as OpenAI-compatible servers do that ignore
   * `stream_options.include_usage` (and omit `usage` from whole responses).
   */
  omitUsage?: boolean;
  /**
   * With `status`: the text of the provider's error message instead of the usual one (real
   * providers put request details there; some echo the API key: "Invalid request made with
   * API key sk-…"), to test what the caller does with provider text.
   */
  message?: string;
}

export interface RecordedRequest {
  readonly seq: number;
  readonly provider: MockProvider;
  readonly method: string;
  /** Path with the query string; a `key` query parameter is never recorded. */
  readonly path: string;
  readonly model: string | undefined;
  readonly authValid: boolean;
  readonly stream: boolean;
  /** Request headers; credential headers are replaced by "[redacted]". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  /** True when the caller closed the connection before the answer was complete. */
  aborted: boolean;
}

export interface Timing {
  readonly latencyMs: number;
  readonly ttftMs: number;
  readonly interTokenMs: number;
  readonly chunkTokens: number;
}

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
