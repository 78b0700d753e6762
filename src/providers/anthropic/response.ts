/** Anthropic `message` → canonical ChatResponse. */
import type { ChatResponse, FinishReason, ToolCall, Usage } from '../canonical.ts';
import { type AdapterCallContext, UpstreamProtocolError } from '../contract.ts';
import { JSON_RESPONSE_TOOL } from './json-mode.ts';

/** Block types Anthropic may add to an answer that carry nothing for a chat completion. */
const IGNORED_BLOCKS = new Set(['thinking', 'redacted_thinking']);

export function finishReasonOf(stopReason: unknown, calledClientTool: boolean): FinishReason {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    // A call of the JSON tool alone is the final answer, not a request to run a tool.
    case 'tool_use':
      return calledClientTool ? 'tool_calls' : 'stop';
    case 'refusal':
      return 'content_filter';
    default:
      throw new UpstreamProtocolError(`unknown Anthropic stop_reason ${JSON.stringify(stopReason)}`);
  }
}

function count(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new UpstreamProtocolError(`Anthropic usage.${field} is not a count`);
  return v;
}

/**
 * Tokens read from or written to the prompt cache are prompt tokens too (Anthropic counts them
 * apart from `input_tokens`). `cacheCreation` is all writes; `cacheCreation1h` the part written
 * with a 1-hour lifetime (`usage.cache_creation.ephemeral_1h_input_tokens`), priced higher.
 */
export interface UsageCounts {
  input: number;
  cacheRead: number;
  cacheCreation: number;
  cacheCreation1h: number;
  output: number;
}

export function newUsageCounts(): UsageCounts {
  return { input: 0, cacheRead: 0, cacheCreation: 0, cacheCreation1h: 0, output: 0 };
}

export function readUsage(raw: unknown, into: UsageCounts = newUsageCounts()): UsageCounts {
  if (typeof raw !== 'object' || raw === null) throw new UpstreamProtocolError('Anthropic usage is missing');
  const u = raw as Record<string, unknown>;
  // message_delta repeats only what changed; an absent or null field keeps the earlier value.
  if (u['input_tokens'] != null) into.input = count(u['input_tokens'], 'input_tokens');
  if (u['cache_read_input_tokens'] != null)
    into.cacheRead = count(u['cache_read_input_tokens'], 'cache_read_input_tokens');
  if (u['cache_creation_input_tokens'] != null)
    into.cacheCreation = count(u['cache_creation_input_tokens'], 'cache_creation_input_tokens');
  if (u['output_tokens'] != null) into.output = count(u['output_tokens'], 'output_tokens');
  const split = u['cache_creation'];
  if (split != null) {
    if (typeof split !== 'object' || Array.isArray(split))
      throw new UpstreamProtocolError('Anthropic usage.cache_creation is not an object');
    const s = split as Record<string, unknown>;
    const fiveMinutes = count(s['ephemeral_5m_input_tokens'], 'cache_creation.ephemeral_5m_input_tokens');
    const oneHour = count(s['ephemeral_1h_input_tokens'], 'cache_creation.ephemeral_1h_input_tokens');
    // The split adds up to cache_creation_input_tokens; a sender that gave only the split still counts.
    if (u['cache_creation_input_tokens'] == null) into.cacheCreation = fiveMinutes + oneHour;
    else if (fiveMinutes + oneHour > into.cacheCreation)
      throw new UpstreamProtocolError(
        'Anthropic usage.cache_creation adds up to more than cache_creation_input_tokens',
      );
    into.cacheCreation1h = oneHour;
  }
  return into;
}

export function toCanonicalUsage(c: UsageCounts): Usage {
  const prompt = c.input + c.cacheRead + c.cacheCreation;
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: c.output, total_tokens: prompt + c.output };
  const details: NonNullable<Usage['prompt_tokens_details']> = {};
  if (c.cacheRead > 0) details.cached_tokens = c.cacheRead;
  if (c.cacheCreation > 0) details.cache_write_tokens = c.cacheCreation;
  if (c.cacheCreation1h > 0) details.cache_write_1h_tokens = Math.min(c.cacheCreation1h, c.cacheCreation);
  if (Object.keys(details).length > 0) usage.prompt_tokens_details = details;
  return usage;
}

function asRecord(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new UpstreamProtocolError(`Anthropic ${what} is not an object`);
  return v as Record<string, unknown>;
}

function asString(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new UpstreamProtocolError(`Anthropic ${what} is not a string`);
  return v;
}

export function parseChatResponse(body: unknown, ctx: AdapterCallContext): ChatResponse {
  const msg = asRecord(body, 'response');
  if (msg['type'] !== 'message') throw new UpstreamProtocolError('Anthropic response type is not "message"');
  if (!Array.isArray(msg['content'])) throw new UpstreamProtocolError('Anthropic response content is not an array');

  let text = '';
  const toolCalls: ToolCall[] = [];
  msg['content'].forEach((raw, i) => {
    const block = asRecord(raw, `content[${i}]`);
    const type = block['type'];
    if (type === 'text') {
      text += asString(block['text'], `content[${i}].text`);
    } else if (type === 'tool_use') {
      const name = asString(block['name'], `content[${i}].name`);
      const args = JSON.stringify(block['input'] ?? {});
      if (name === JSON_RESPONSE_TOOL) text += args;
      else
        toolCalls.push({
          id: asString(block['id'], `content[${i}].id`),
          type: 'function',
          function: { name, arguments: args },
        });
    } else if (typeof type !== 'string' || !IGNORED_BLOCKS.has(type)) {
      throw new UpstreamProtocolError(`unexpected Anthropic content block type ${JSON.stringify(type)}`);
    }
  });

  const finishReason = finishReasonOf(msg['stop_reason'], toolCalls.length > 0);
  const message: ChatResponse['choices'][number]['message'] = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: `chatcmpl-${ctx.requestId}`,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.publicModel,
    choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
    usage: toCanonicalUsage(readUsage(msg['usage'])),
  };
}
