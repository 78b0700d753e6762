/**
 * The gateway's canonical format: OpenAI Chat Completions and Embeddings, as documented in
 * OpenAI's API reference. Every API surface translates into these types and every provider
 * adapter translates out of them. Keep this file free of any provider-specific idea.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * A prompt-cache breakpoint: the prompt up to and including the part (or tool, or tool result)
 * that carries it may be cached by the provider. Only the Anthropic surface sets it (from a
 * client's `cache_control`) and only the Anthropic adapter sends it; other adapters copy parts
 * field by field and leave it behind. OpenAI-compatible gateways use the same extension.
 */
export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

export interface TextPart {
  type: 'text';
  text: string;
  cache_control?: CacheControl;
}
export interface ImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
  cache_control?: CacheControl;
}
export type ContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface SystemMessage {
  role: 'system' | 'developer';
  content: string | TextPart[];
  name?: string;
}
export interface UserMessage {
  role: 'user';
  content: string | ContentPart[];
  name?: string;
}
export interface AssistantMessage {
  role: 'assistant';
  content?: string | TextPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  refusal?: string | null;
}
export interface ToolMessage {
  role: 'tool';
  content: string | TextPart[];
  tool_call_id: string;
  cache_control?: CacheControl;
}
export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: JsonObject; strict?: boolean };
  cache_control?: CacheControl;
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; description?: string; schema?: JsonObject; strict?: boolean } };

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
  stop?: string | string[];
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  seed?: number;
  user?: string;
  n?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  logit_bias?: Record<string, number>;
  logprobs?: boolean;
  top_logprobs?: number;
  metadata?: Record<string, string>;
}

/**
 * A request's body as the client sent it, for a provider that speaks the client's own
 * dialect (the same-dialect fast path, src/providers/openai/forward.ts): the decoded text, where
 * the members the gateway must rewrite sit, and the canonical request validated from it. Built
 * by the validate stage only when re-serialising that request could not say anything these
 * bytes do not (no nulls, numbers written as JSON.stringify writes them); the terminal hands it
 * on only while no stage has changed the request (src/surfaces/openai/client-body.ts).
 */
export interface ClientBody<R extends ChatRequest | EmbeddingsRequest> {
  readonly text: string;
  /** Index of the root object's closing brace. */
  readonly closeBrace: number;
  /** Value spans (start inclusive, end exclusive) of the top-level `model` and `stream_options`. */
  readonly model: { readonly start: number; readonly end: number };
  readonly streamOptions: { readonly start: number; readonly end: number } | undefined;
  /** The canonical request validated from `text`. */
  readonly request: R;
}

export type ClientChatBody = ClientBody<ChatRequest>;
export type ClientEmbeddingsBody = ClientBody<EmbeddingsRequest>;

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: {
    /** Prompt tokens read from the provider's prompt cache. */
    cached_tokens?: number;
    /**
     * Gateway-internal, never shown to OpenAI-surface clients: prompt tokens written to the
     * provider's prompt cache (all lifetimes; Anthropic's `cache_creation_input_tokens`).
     */
    cache_write_tokens?: number;
    /** Gateway-internal: the part of cache_write_tokens written with a 1-hour lifetime. */
    cache_write_1h_tokens?: number;
  };
}

/**
 * Token log probabilities as OpenAI returns them (`{content: [...], refusal: [...]}`). Kept
 * opaque: only OpenAI-family providers produce them, and the gateway passes them through.
 */
export type ChoiceLogprobs = JsonObject;

export interface ChatChoice {
  index: number;
  message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[]; refusal: string | null };
  finish_reason: FinishReason | null;
  logprobs: ChoiceLogprobs | null;
}

export interface ChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatChoice[];
  usage?: Usage;
  system_fingerprint?: string | null;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChunkChoice {
  index: number;
  delta: { role?: 'assistant'; content?: string | null; tool_calls?: ToolCallDelta[]; refusal?: string | null };
  finish_reason: FinishReason | null;
  logprobs?: ChoiceLogprobs | null;
}

export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChunkChoice[];
  /** Present (non-null) only on the final usage chunk, whose `choices` is empty. */
  usage?: Usage | null;
  system_fingerprint?: string | null;
}

export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}

export interface EmbeddingsResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

export interface ModelInfo {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}
