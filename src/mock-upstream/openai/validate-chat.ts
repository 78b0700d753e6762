/**
 * The checks OpenAI's chat completions endpoint makes before answering, with its messages,
 * params and codes, so an adapter that builds a request the real API would refuse is
 * refused here too.
 */
import type { ErrorReply } from '../core/http.ts';
import { isObject, type JsonObject } from '../core/types.ts';
import { invalidRequest, MALFORMED_JSON_MESSAGE } from './errors.ts';
import { chatTools, contentText } from './messages.ts';

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
}

function checkRange(body: JsonObject, name: string, min: number, max: number): ErrorReply | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number')
    return invalidRequest(
      `Invalid type for '${name}': expected a decimal, but got a ${typeName(v)} instead.`,
      name,
      'invalid_type',
    );
  if (v > max)
    return invalidRequest(
      `Invalid '${name}': decimal above maximum value. Expected a value <= ${max}, but got ${v} instead.`,
      name,
      'decimal_above_max_value',
    );
  if (v < min)
    return invalidRequest(
      `Invalid '${name}': decimal below minimum value. Expected a value >= ${min}, but got ${v} instead.`,
      name,
      'decimal_below_min_value',
    );
  return undefined;
}

function checkMessages(messages: unknown[]): ErrorReply | undefined {
  let pendingCallIds: { index: number; ids: Set<string> } | undefined;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!isObject(m))
      return invalidRequest(
        `Invalid type for 'messages[${i}]': expected an object, but got a ${typeName(m)} instead.`,
        `messages[${i}]`,
        'invalid_type',
      );
    const role = m['role'];
    if (role === undefined)
      return invalidRequest(
        `Missing required parameter: 'messages[${i}].role'.`,
        `messages[${i}].role`,
        'missing_required_parameter',
      );
    if (typeof role !== 'string' || !ROLES.has(role)) {
      return invalidRequest(
        `Invalid value: '${String(role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        `messages[${i}].role`,
        'invalid_value',
      );
    }
    const content = m['content'];
    const hasCalls = Array.isArray(m['tool_calls']) && m['tool_calls'].length > 0;
    if (content === undefined && !(role === 'assistant' && hasCalls)) {
      if (role !== 'assistant')
        return invalidRequest(
          `Missing required parameter: 'messages[${i}].content'.`,
          `messages[${i}].content`,
          'missing_required_parameter',
        );
    }
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) {
      return invalidRequest(
        `Invalid type for 'messages[${i}].content': expected one of a string or array of objects, but got an ${typeName(content)} instead.`,
        `messages[${i}].content`,
        'invalid_type',
      );
    }
    if (pendingCallIds !== undefined && role !== 'tool' && pendingCallIds.ids.size > 0) {
      return invalidRequest(
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pendingCallIds.ids].join(', ')}`,
        `messages.[${pendingCallIds.index}].role`,
      );
    }
    if (role === 'tool') {
      if (typeof m['tool_call_id'] !== 'string')
        return invalidRequest(
          `Missing required parameter: 'messages[${i}].tool_call_id'.`,
          `messages[${i}].tool_call_id`,
          'missing_required_parameter',
        );
      if (pendingCallIds === undefined || !pendingCallIds.ids.has(m['tool_call_id'])) {
        return invalidRequest(
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          `messages.[${i}].role`,
        );
      }
      pendingCallIds.ids.delete(m['tool_call_id']);
      continue;
    }
    pendingCallIds = undefined;
    if (role === 'assistant' && hasCalls) {
      const ids = new Set<string>();
      for (const call of m['tool_calls'] as unknown[])
        if (isObject(call) && typeof call['id'] === 'string') ids.add(call['id']);
      pendingCallIds = { index: i, ids };
    }
  }
  if (pendingCallIds !== undefined && pendingCallIds.ids.size > 0) {
    return invalidRequest(
      `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pendingCallIds.ids].join(', ')}`,
      `messages.[${pendingCallIds.index}].role`,
    );
  }
  return undefined;
}

function checkTools(body: JsonObject): ErrorReply | undefined {
  const tools = body['tools'];
  if (tools !== undefined) {
    if (!Array.isArray(tools))
      return invalidRequest(
        `Invalid type for 'tools': expected an array of objects, but got a ${typeName(tools)} instead.`,
        'tools',
        'invalid_type',
      );
    for (let i = 0; i < tools.length; i++) {
      const t = tools[i];
      if (!isObject(t) || t['type'] !== 'function')
        return invalidRequest(
          `Invalid value: '${isObject(t) ? String(t['type']) : typeName(t)}'. Supported values are: 'function' and 'custom'.`,
          `tools[${i}].type`,
          'invalid_value',
        );
      const fn = t['function'];
      if (!isObject(fn) || typeof fn['name'] !== 'string')
        return invalidRequest(
          `Missing required parameter: 'tools[${i}].function.name'.`,
          `tools[${i}].function.name`,
          'missing_required_parameter',
        );
    }
  }
  const choice = body['tool_choice'];
  if (choice === undefined || choice === null) return undefined;
  if (chatTools(body).length === 0)
    return invalidRequest(
      "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      'tool_choice',
    );
  if (typeof choice === 'string' && !['none', 'auto', 'required'].includes(choice)) {
    return invalidRequest(
      `Invalid value: '${choice}'. Supported values are: 'none', 'auto', and 'required'.`,
      'tool_choice',
      'invalid_value',
    );
  }
  if (isObject(choice)) {
    const name = isObject(choice['function']) ? choice['function']['name'] : undefined;
    if (choice['type'] !== 'function' || typeof name !== 'string')
      return invalidRequest(
        "Missing required parameter: 'tool_choice.function.name'.",
        'tool_choice.function.name',
        'missing_required_parameter',
      );
    if (!chatTools(body).some((t) => t.name === name))
      return invalidRequest(
        `Invalid value for 'tool_choice': function '${name}' was not found in 'tools'.`,
        'tool_choice',
      );
  }
  return undefined;
}

function checkResponseFormat(body: JsonObject, messages: unknown[]): ErrorReply | undefined {
  const format = body['response_format'];
  if (format === undefined || format === null) return undefined;
  if (!isObject(format) || !['text', 'json_object', 'json_schema'].includes(String(format['type']))) {
    return invalidRequest(
      "Invalid value for 'response_format.type': expected one of 'text', 'json_object', 'json_schema'.",
      'response_format.type',
      'invalid_value',
    );
  }
  if (format['type'] === 'json_schema') {
    const js = format['json_schema'];
    if (!isObject(js))
      return invalidRequest(
        "Missing required parameter: 'response_format.json_schema'.",
        'response_format.json_schema',
        'missing_required_parameter',
      );
    if (typeof js['name'] !== 'string')
      return invalidRequest(
        "Missing required parameter: 'response_format.json_schema.name'.",
        'response_format.json_schema.name',
        'missing_required_parameter',
      );
  }
  if (format['type'] === 'json_object') {
    const mentionsJson = messages.some((m) => isObject(m) && /json/i.test(contentText(m['content'])));
    if (!mentionsJson)
      return invalidRequest(
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
        'messages',
      );
  }
  return undefined;
}

export function validateOpenAiChat(body: unknown): ErrorReply | undefined {
  if (!isObject(body)) return invalidRequest(MALFORMED_JSON_MESSAGE);
  if (typeof body['model'] !== 'string' || body['model'].length === 0)
    return invalidRequest('you must provide a model parameter');
  const messages = body['messages'];
  if (messages === undefined)
    return invalidRequest("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(messages))
    return invalidRequest(
      `Invalid type for 'messages': expected an array of objects, but got a ${typeName(messages)} instead.`,
      'messages',
      'invalid_type',
    );
  if (messages.length === 0)
    return invalidRequest(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      'messages',
      'empty_array',
    );
  const n = body['n'];
  if (n !== undefined && n !== null && (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 128)) {
    return invalidRequest(
      `Invalid 'n': expected an integer between 1 and 128, but got ${JSON.stringify(n)} instead.`,
      'n',
      'invalid_value',
    );
  }
  for (const name of ['max_tokens', 'max_completion_tokens']) {
    const v = body[name];
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) {
      return invalidRequest(
        `Invalid '${name}': integer below minimum value. Expected a value >= 1, but got ${JSON.stringify(v)} instead.`,
        name,
        'integer_below_min_value',
      );
    }
  }
  if (body['stream_options'] !== undefined && body['stream_options'] !== null && body['stream'] !== true) {
    return invalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  }
  return (
    checkRange(body, 'temperature', 0, 2) ??
    checkRange(body, 'top_p', 0, 1) ??
    checkMessages(messages) ??
    checkTools(body) ??
    checkResponseFormat(body, messages)
  );
}
