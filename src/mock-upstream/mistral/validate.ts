/**
 * Mistral's request checks: unknown fields are refused (422 extra_forbidden, which catches
 * OpenAI-only parameters such as stream_options or max_completion_tokens), required fields,
 * roles, and the rule that the last message is from the user or a tool.
 */
import type { ErrorReply } from '../core/http.ts';
import { isObject, type JsonObject } from '../core/types.ts';
import { mistralError, type ValidationIssue, validationError } from './errors.ts';

const CHAT_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'messages',
  'temperature',
  'top_p',
  'max_tokens',
  'stream',
  'stop',
  'random_seed',
  'response_format',
  'tools',
  'tool_choice',
  'presence_penalty',
  'frequency_penalty',
  'n',
  'prediction',
  'parallel_tool_calls',
  'prompt_mode',
  'safe_prompt',
  'metadata',
]);
const EMBEDDING_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'input',
  'output_dimension',
  'output_dtype',
  'encoding_format',
  'metadata',
]);
const ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant', 'tool']);

function commonIssues(body: JsonObject, fields: ReadonlySet<string>, required: readonly string[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const name of required) {
    if (body[name] === undefined)
      issues.push({ type: 'missing', loc: ['body', name], msg: 'Field required', input: body });
  }
  for (const [name, value] of Object.entries(body)) {
    if (!fields.has(name))
      issues.push({
        type: 'extra_forbidden',
        loc: ['body', name],
        msg: 'Extra inputs are not permitted',
        input: value,
      });
  }
  return issues;
}

const NOT_AN_OBJECT = (input: unknown): ErrorReply =>
  validationError([
    {
      type: 'model_attributes_type',
      loc: ['body'],
      msg: 'Input should be a valid dictionary or object to extract fields from',
      input,
    },
  ]);

export function validateMistralChat(body: unknown): ErrorReply | undefined {
  if (!isObject(body)) return NOT_AN_OBJECT(body);
  const issues = commonIssues(body, CHAT_FIELDS, ['model', 'messages']);
  const messages = body['messages'];
  if (messages !== undefined && !Array.isArray(messages))
    issues.push({ type: 'list_type', loc: ['body', 'messages'], msg: 'Input should be a valid list', input: messages });
  if (Array.isArray(messages)) {
    messages.forEach((m, i) => {
      if (!isObject(m) || typeof m['role'] !== 'string' || !ROLES.has(m['role'])) {
        issues.push({
          type: 'union_tag_invalid',
          loc: ['body', 'messages', i],
          msg: `Input tag '${isObject(m) ? String(m['role']) : ''}' found using 'role' does not match any of the expected tags: 'assistant', 'system', 'tool', 'user'`,
          input: m,
        });
      }
    });
  }
  if (issues.length > 0) return validationError(issues);
  const list = messages as JsonObject[];
  const last = list[list.length - 1];
  if (last === undefined)
    return mistralError(400, 'Conversation must have at least one message', 'invalid_request_message_order', '3230');
  const lastRole = last['role'];
  if (lastRole !== 'user' && lastRole !== 'tool' && !(lastRole === 'assistant' && last['prefix'] === true)) {
    return mistralError(
      400,
      `Expected last role User or Tool (or Assistant with prefix True) for serving but got ${String(lastRole)}`,
      'invalid_request_message_order',
      '3230',
    );
  }
  const choice = body['tool_choice'];
  if (typeof choice === 'string' && !['auto', 'none', 'any', 'required'].includes(choice)) {
    return validationError([
      {
        type: 'enum',
        loc: ['body', 'tool_choice'],
        msg: "Input should be 'auto', 'none', 'any' or 'required'",
        input: choice,
      },
    ]);
  }
  return undefined;
}

export function validateMistralEmbeddings(body: unknown): ErrorReply | undefined {
  if (!isObject(body)) return NOT_AN_OBJECT(body);
  const issues = commonIssues(body, EMBEDDING_FIELDS, ['model', 'input']);
  const input = body['input'];
  const okInput =
    typeof input === 'string' ||
    (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string'));
  if (input !== undefined && !okInput)
    issues.push({ type: 'string_type', loc: ['body', 'input'], msg: 'Input should be a valid string', input });
  const dims = body['output_dimension'];
  if (dims !== undefined && dims !== null && (typeof dims !== 'number' || !Number.isInteger(dims) || dims < 1)) {
    issues.push({
      type: 'greater_than',
      loc: ['body', 'output_dimension'],
      msg: 'Input should be greater than 0',
      input: dims,
    });
  }
  return issues.length > 0 ? validationError(issues) : undefined;
}
