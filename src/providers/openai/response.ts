/**
 * OpenAI-shaped chat completion bodies → canonical ChatResponse. Strict about the parts the
 * gateway relies on (choices, message, finish reason, tool calls, usage) and deaf to the rest
 * (annotations, audio, service_tier), which are never forwarded.
 */
import type { ChatChoice, ChatResponse, ChoiceLogprobs, ToolCall } from '../canonical.ts';
import type { AdapterCallContext } from '../contract.ts';
import type { ChatWireDialect } from './chat-dialect.ts';
import {
  isWireObject,
  protocolError,
  wireArray,
  wireCount,
  wireObject,
  wireOptString,
  wireString,
  wireUsage,
} from './wire-check.ts';

export function parseChatCompletion(body: unknown, ctx: AdapterCallContext, dialect: ChatWireDialect): ChatResponse {
  const root = wireObject(body, '');
  const id = wireString(root.id, 'id');
  const rawChoices = wireArray(root.choices, 'choices');
  if (rawChoices.length === 0) throw protocolError('choices', 'must not be empty');
  const choices = rawChoices.map((c, i) => parseChoice(c, `choices[${i}]`, dialect));

  const response: ChatResponse = {
    id,
    object: 'chat.completion',
    created: root.created === undefined || root.created === null ? ctx.created : wireCount(root.created, 'created'),
    model: ctx.publicModel,
    choices,
  };
  if (root.usage !== undefined && root.usage !== null) response.usage = wireUsage(root.usage, 'usage');
  const fingerprint = wireOptString(root.system_fingerprint, 'system_fingerprint');
  if (fingerprint !== undefined) response.system_fingerprint = fingerprint;
  return response;
}

function parseChoice(raw: unknown, path: string, dialect: ChatWireDialect): ChatChoice {
  const choice = wireObject(raw, path);
  const index = wireCount(choice.index, `${path}.index`);
  const message = wireObject(choice.message, `${path}.message`);
  if (message.role !== undefined && message.role !== 'assistant') {
    throw protocolError(`${path}.message.role`, 'expected "assistant"');
  }
  const finishRaw = wireString(choice.finish_reason, `${path}.finish_reason`);
  const content = dialect.content(message.content, `${path}.message.content`);
  const refusal = wireOptString(message.refusal, `${path}.message.refusal`);
  const toolCalls = parseToolCalls(message, `${path}.message`, index, dialect);

  const out: ChatChoice = {
    index,
    message: { role: 'assistant', content: content ?? null, refusal: refusal ?? null },
    finish_reason: dialect.finishReason(finishRaw, `${path}.finish_reason`),
    logprobs: readLogprobs(choice.logprobs, `${path}.logprobs`),
  };
  if (toolCalls.length > 0) out.message.tool_calls = toolCalls;
  return out;
}

function parseToolCalls(
  message: Record<string, unknown>,
  path: string,
  choice: number,
  dialect: ChatWireDialect,
): ToolCall[] {
  const raw = message.tool_calls;
  if (raw !== undefined && raw !== null) {
    return wireArray(raw, `${path}.tool_calls`).map((tc, position) => {
      const p = `${path}.tool_calls[${position}]`;
      const call = wireObject(tc, p);
      if (call.type !== undefined && call.type !== null && call.type !== 'function') {
        throw protocolError(`${p}.type`, 'expected "function"');
      }
      const fn = wireObject(call.function, `${p}.function`);
      return {
        id: dialect.toolCallId(wireOptString(call.id, `${p}.id`), { choice, position }),
        type: 'function',
        function: {
          name: wireString(fn.name, `${p}.function.name`),
          arguments: toolArguments(fn.arguments, `${p}.function.arguments`),
        },
      };
    });
  }
  // The legacy functions API answers with one `function_call` instead of `tool_calls`.
  if (message.function_call !== undefined && message.function_call !== null) {
    const fn = wireObject(message.function_call, `${path}.function_call`);
    return [
      {
        id: dialect.toolCallId(undefined, { choice, position: 0 }),
        type: 'function',
        function: {
          name: wireString(fn.name, `${path}.function_call.name`),
          arguments: toolArguments(fn.arguments, `${path}.function_call.arguments`),
        },
      },
    ];
  }
  return [];
}

/** Arguments are a JSON string on the wire; some providers (Mistral's schema allows it) send the object itself. */
export function toolArguments(v: unknown, path: string): string {
  if (typeof v === 'string') return v;
  if (isWireObject(v)) return JSON.stringify(v);
  throw protocolError(path, 'expected a JSON string or object');
}

/** Passed through as the provider sent it (an object or null); anything else is malformed. */
export function readLogprobs(raw: unknown, path: string): ChoiceLogprobs | null {
  if (raw === undefined || raw === null) return null;
  return wireObject(raw, path) as ChoiceLogprobs;
}
