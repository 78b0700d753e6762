/**
 * How Mistral's answers differ from OpenAI's: its finish reasons, its tool-call ids and message
 * content that may be a list of chunks (reasoning models put `thinking` chunks before the text).
 */
import type { FinishReason } from '../canonical.ts';
import type { ChatWireDialect } from '../openai/chat-dialect.ts';
import { protocolError, wireArray, wireObject, wireString } from '../openai/wire-check.ts';
import { fromMistralToolCallId } from './tool-call-ids.ts';

const FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  stop: 'stop',
  length: 'length',
  // The model's context window ran out rather than max_tokens; to the client both are "length".
  model_length: 'length',
  tool_calls: 'tool_calls',
};

export function createMistralDialect(requestId: string): ChatWireDialect {
  return {
    provider: 'mistral',
    finishReason(raw, path) {
      const mapped = FINISH_REASONS[raw];
      if (mapped !== undefined) return mapped;
      // `error` means generation failed upstream: what was produced is not an answer.
      if (raw === 'error') throw protocolError(path, 'generation ended with finish_reason "error"');
      throw protocolError(path, `unexpected finish_reason ${JSON.stringify(raw.slice(0, 40))}`);
    },
    toolCallId: (raw, ref) => fromMistralToolCallId(raw, requestId, ref.choice, ref.position),
    content: readMistralContent,
  };
}

/** String content as it is; chunk lists reduced to their text (thinking is not part of the answer). */
export function readMistralContent(raw: unknown, path: string): string | null | undefined {
  if (raw === undefined || raw === null) return raw;
  if (typeof raw === 'string') return raw;
  const parts = wireArray(raw, path);
  const texts: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const chunk = wireObject(parts[i], `${path}[${i}]`);
    if (chunk.type === 'text') texts.push(wireString(chunk.text, `${path}[${i}].text`));
    else if (chunk.type !== 'thinking') throw protocolError(`${path}[${i}].type`, 'unexpected content chunk type');
  }
  return texts.length === 0 ? null : texts.join('');
}
