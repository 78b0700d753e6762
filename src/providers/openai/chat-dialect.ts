/**
 * The small set of ways OpenAI-shaped providers differ when they *answer*: finish reasons,
 * tool-call ids and the shape of message content. The response parser and the stream translator
 * in this folder are written once against this interface; Mistral supplies its own dialect.
 */
import type { FinishReason } from '../canonical.ts';
import { protocolError, wireString } from './wire-check.ts';

export interface ToolCallRef {
  readonly choice: number;
  /** Position of the call within its choice (0-based, in arrival order). */
  readonly position: number;
}

export interface ChatWireDialect {
  /** Used in protocol error messages, e.g. "openai", "mistral". */
  readonly provider: string;
  /** Maps a provider finish reason; throws `UpstreamProtocolError` on one that means failure or is unknown. */
  finishReason(raw: string, path: string): FinishReason;
  /** The canonical id for a provider tool-call id (`raw` is undefined when the provider sent none). */
  toolCallId(raw: string | undefined, ref: ToolCallRef): string;
  /** Message or delta content as canonical text; null/undefined when absent. */
  content(raw: unknown, path: string): string | null | undefined;
}

/**
 * OpenAI's documented finish reasons, plus spellings that OpenAI-compatible servers are known to
 * use for the same meaning. Anything else (e.g. vLLM's `abort`, an `error`) is not a normal end
 * and is refused rather than guessed.
 */
const OPENAI_FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  content_filter: 'content_filter',
  // Legacy functions API: the model called a function, which the canonical format calls a tool call.
  function_call: 'tool_calls',
  eos: 'stop',
  eos_token: 'stop',
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
};

export function createOpenAiDialect(provider: string, requestId: string): ChatWireDialect {
  return {
    provider,
    finishReason(raw, path) {
      const mapped = OPENAI_FINISH_REASONS[raw];
      if (mapped === undefined)
        throw protocolError(path, `unexpected finish_reason ${JSON.stringify(raw.slice(0, 40))}`);
      return mapped;
    },
    toolCallId(raw, ref) {
      if (raw !== undefined && raw !== '') return raw;
      // Some compatible servers omit ids; a stable one lets the client send the result back.
      return `call_${requestId}_${ref.choice}_${ref.position}`;
    },
    content(raw, path) {
      if (raw === undefined || raw === null) return raw;
      return wireString(raw, path);
    },
  };
}
