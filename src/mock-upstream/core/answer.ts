/**
 * Decides what the emulated model answers, independent of any wire format: the echo of the
 * last user text, a JSON document in JSON mode, or tool calls when forced or asked for with
 * the `[[tool]]` / `[[parallel]]` markers. Provider modules translate a request into a
 * `Conversation` and the resulting `AnswerPlan` into their own response shapes.
 */
import { fillSchema } from './schema-fill.ts';
import { countTokens, promptTokens, truncateToTokens } from './tokenizer.ts';

export const TOOL_MARKER = '[[tool]]';
export const PARALLEL_MARKER = '[[parallel]]';
const MAX_PARALLEL_CALLS = 3;

export interface ToolSpec {
  readonly name: string;
  readonly schema: unknown;
}

export type ToolMode =
  | { readonly kind: 'auto' }
  | { readonly kind: 'none' }
  | { readonly kind: 'any' }
  | { readonly kind: 'named'; readonly name: string };

export interface Conversation {
  /** One string per message (system included), for prompt token counting. */
  readonly messageTexts: readonly string[];
  /**
   * The prompt count when the emulated provider's own tokenizer is known (OpenAI models);
   * otherwise the emulator's tokenizer counts `messageTexts`.
   */
  readonly promptTokens?: number | undefined;
  /** Text of the last user message that has text ('' when none). */
  readonly lastUserText: string;
  /** True when the conversation ends with a user text turn (not tool results). */
  readonly endsWithUserText: boolean;
  readonly tools: readonly ToolSpec[];
  readonly toolMode: ToolMode;
  readonly parallelToolCalls: boolean;
  /** JSON mode; `schema` set for structured outputs. */
  readonly json: { readonly schema?: unknown } | undefined;
  readonly maxTokens: number | undefined;
  readonly stop: readonly string[];
}

export interface ToolCallPlan {
  readonly name: string;
  readonly args: unknown;
  readonly argumentsJson: string;
}

export type FinishKind = 'stop' | 'length' | 'stop_sequence' | 'tool_calls';

export interface AnswerPlan {
  /** Empty when the answer is tool calls. */
  readonly text: string;
  readonly toolCalls: readonly ToolCallPlan[];
  readonly finish: FinishKind;
  readonly stopSequence: string | undefined;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export function planAnswer(conv: Conversation): AnswerPlan {
  const prompt = conv.promptTokens ?? promptTokens(conv.messageTexts);
  const calls = planToolCalls(conv);
  if (calls.length > 0) {
    let completion = 0;
    for (const c of calls) completion += countTokens(c.name) + countTokens(c.argumentsJson);
    return {
      text: '',
      toolCalls: calls,
      finish: 'tool_calls',
      stopSequence: undefined,
      promptTokens: prompt,
      completionTokens: completion,
    };
  }
  let text = conv.lastUserText;
  if (conv.json !== undefined) {
    text = JSON.stringify(conv.json.schema === undefined ? { echo: text } : fillSchema(conv.json.schema, text));
  }
  let finish: FinishKind = 'stop';
  let stopSequence: string | undefined;
  const cut = earliestStop(text, conv.stop);
  if (cut !== undefined) {
    text = text.slice(0, cut.index);
    finish = 'stop_sequence';
    stopSequence = cut.sequence;
  }
  if (conv.maxTokens !== undefined) {
    const t = truncateToTokens(text, conv.maxTokens);
    if (t.truncated) {
      text = t.text;
      finish = 'length';
      stopSequence = undefined;
    }
  }
  return { text, toolCalls: [], finish, stopSequence, promptTokens: prompt, completionTokens: countTokens(text) };
}

function planToolCalls(conv: Conversation): ToolCallPlan[] {
  if (conv.tools.length === 0 || conv.toolMode.kind === 'none') return [];
  const text = conv.lastUserText;
  const asked = conv.endsWithUserText && (text.includes(TOOL_MARKER) || text.includes(PARALLEL_MARKER));
  const forced = conv.toolMode.kind === 'any' || conv.toolMode.kind === 'named';
  if (!asked && !forced) return [];
  let chosen: readonly ToolSpec[];
  if (conv.toolMode.kind === 'named') {
    const name = conv.toolMode.name;
    chosen = conv.tools.filter((t) => t.name === name).slice(0, 1);
  } else if (conv.parallelToolCalls && conv.endsWithUserText && text.includes(PARALLEL_MARKER)) {
    chosen = conv.tools.slice(0, MAX_PARALLEL_CALLS);
  } else {
    chosen = conv.tools.slice(0, 1);
  }
  return chosen.map((tool) => {
    const args = fillSchema(tool.schema ?? { type: 'object' }, text);
    const objectArgs = typeof args === 'object' && args !== null && !Array.isArray(args) ? args : {};
    return { name: tool.name, args: objectArgs, argumentsJson: JSON.stringify(objectArgs) };
  });
}

function earliestStop(text: string, stops: readonly string[]): { index: number; sequence: string } | undefined {
  let best: { index: number; sequence: string } | undefined;
  for (const s of stops) {
    if (s.length === 0) continue;
    const i = text.indexOf(s);
    if (i >= 0 && (best === undefined || i < best.index)) best = { index: i, sequence: s };
  }
  return best;
}
