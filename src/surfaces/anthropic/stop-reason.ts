/** Canonical finish reasons and usage → Anthropic's. Shared by the response and the event stream. */
import type { FinishReason, Usage } from '../../providers/canonical.ts';

export type MessagesStopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'refusal';

/**
 * `stop` becomes `end_turn`: the canonical format does not say whether a stop sequence matched
 * (or which), so `stop_sequence` is never claimed.
 */
export function stopReasonOf(finish: FinishReason | null): MessagesStopReason {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

export interface MessagesUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

/**
 * Anthropic's `input_tokens` excludes tokens read from or written to the prompt cache; those are
 * reported apart (`cache_read_input_tokens`, `cache_creation_input_tokens` with its split by
 * lifetime), as Anthropic does, whichever provider served the call.
 */
export function usageOf(usage: Usage | null | undefined): MessagesUsage {
  if (!usage) return { input_tokens: 0, output_tokens: 0 };
  const details = usage.prompt_tokens_details;
  const cached = Math.min(details?.cached_tokens ?? 0, usage.prompt_tokens);
  const written = Math.min(details?.cache_write_tokens ?? 0, usage.prompt_tokens - cached);
  const written1h = Math.min(details?.cache_write_1h_tokens ?? 0, written);
  const out: MessagesUsage = {
    input_tokens: usage.prompt_tokens - cached - written,
    output_tokens: usage.completion_tokens,
  };
  if (written > 0) {
    out.cache_creation_input_tokens = written;
    out.cache_creation = { ephemeral_5m_input_tokens: written - written1h, ephemeral_1h_input_tokens: written1h };
  }
  if (cached > 0) out.cache_read_input_tokens = cached;
  return out;
}

/** Anthropic message ids look like `msg_01…`; keep a canonical id's letters and digits under that prefix. */
export function messageIdOf(id: string): string {
  if (id.startsWith('msg_')) return id;
  return `msg_${id.replace(/^chatcmpl-/, '').replace(/[^A-Za-z0-9]/g, '')}`;
}
