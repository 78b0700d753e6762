/** Caps on what one request may ask for (`payload`); read by src/stages/validate/config.ts. */

/** Caps on what one request may ask for, checked after parsing (413/400 with the path). */
export interface PayloadConfig {
  readonly maxMessages: number;
  /** Characters of text across all messages (and tool definitions). */
  readonly maxPromptChars: number;
  /** Ceiling for max_tokens / max_completion_tokens (Anthropic: max_tokens). */
  readonly maxOutputTokens: number;
  readonly maxImages: number;
  /** Decoded size of one inline (data: URL) image. */
  readonly maxImageBytes: number;
  readonly maxTools: number;
  /** Inputs in one embeddings request. */
  readonly maxEmbeddingInputs: number;
}
