/**
 * Canonical ChatRequest → Gemini `models/{model}:generateContent` (or
 * `:streamGenerateContent?alt=sse`) request.
 */

import { type GatewayError, gatewayError } from '../../errors/gateway-error.ts';
import { invalid, isPlainObject } from '../../surfaces/validation.ts';
import type { AssistantMessage, ChatRequest, JsonObject, ToolChoice } from '../canonical.ts';
import type { AdapterCallContext, UpstreamHttpRequest } from '../contract.ts';
import { textOf, textParts, userParts } from './content-parts.ts';
import type { GeminiContent, GeminiGenerateContentRequest, GeminiGenerationConfig, GeminiPart } from './wire-types.ts';

/**
 * Gemini 3 refuses a replayed `functionCall` without a thought signature. The canonical
 * format has no place to carry Google's opaque signature, so replayed calls carry the
 * placeholder Google documents for history it did not produce itself ("thought signatures" guide).
 */
export const REPLAYED_CALL_SIGNATURE = 'skip_thought_signature_validator';

export function authHeaders(credential: string | undefined): Record<string, string> {
  return credential === undefined ? {} : { 'x-goog-api-key': credential };
}

/**
 * `/models/<id>:<method>`. The id is percent-encoded as one path segment, so a configured id
 * such as `../../files` cannot leave `/models/`; and because `:<method>` always follows, the
 * segment can never be a bare `.` or `..`. A leading `models/` (as Gemini's list API spells
 * names) is accepted.
 */
export function modelPath(upstreamModel: string, method: string): string {
  return `/models/${encodeURIComponent(bareModelId(upstreamModel))}:${method}`;
}

export function bareModelId(upstreamModel: string): string {
  return upstreamModel.startsWith('models/') ? upstreamModel.slice('models/'.length) : upstreamModel;
}

export function unsupportedParameter(path: string, ctx: AdapterCallContext): GatewayError {
  return gatewayError('request.unsupported_parameter', { params: { path, model: ctx.publicModel }, param: path });
}

export function chatRequest(req: ChatRequest, ctx: AdapterCallContext): UpstreamHttpRequest {
  const stream = req.stream === true;
  return {
    method: 'POST',
    path: stream
      ? `${modelPath(ctx.upstreamModel, 'streamGenerateContent')}?alt=sse`
      : modelPath(ctx.upstreamModel, 'generateContent'),
    headers: { 'content-type': 'application/json', ...authHeaders(ctx.credential) },
    body: buildGenerateContentBody(req, ctx),
    stream,
  };
}

export function buildGenerateContentBody(req: ChatRequest, ctx: AdapterCallContext): GeminiGenerateContentRequest {
  rejectUnsupported(req, ctx);
  const { contents, system } = translateMessages(req);
  const body: GeminiGenerateContentRequest = { contents };
  // Gemini has one system instruction per request, so system/developer messages found
  // anywhere in the conversation are gathered into it, in order.
  if (system.length > 0) body.systemInstruction = { parts: system };
  if (req.tools !== undefined && req.tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: req.tools.map((t) => ({
          name: t.function.name,
          ...(t.function.description !== undefined ? { description: t.function.description } : {}),
          // parametersJsonSchema takes JSON Schema as clients wrote it; `parameters` would need
          // a rewrite into Google's OpenAPI subset. Keywords Gemini rejects come back as its 400.
          ...(t.function.parameters !== undefined ? { parametersJsonSchema: t.function.parameters } : {}),
        })),
      },
    ];
  }
  if (req.tool_choice !== undefined)
    body.toolConfig = { functionCallingConfig: functionCallingConfig(req.tool_choice) };
  const generationConfig = buildGenerationConfig(req);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;
  // Not sent, for want of a Gemini field: `user` and `metadata` (bookkeeping only) and
  // `parallel_tool_calls` (Gemini decides by itself; `false` is refused upstream of here, see capabilities.ts).
  return body;
}

/**
 * The route stage drops or rejects what `capabilities` says Gemini cannot do; this is the
 * fail-closed backstop so such a parameter is never silently ignored.
 */
function rejectUnsupported(req: ChatRequest, ctx: AdapterCallContext): void {
  if (req.logprobs === true) throw unsupportedParameter('logprobs', ctx);
  if (req.top_logprobs !== undefined) throw unsupportedParameter('top_logprobs', ctx);
  if (req.logit_bias !== undefined && Object.keys(req.logit_bias).length > 0)
    throw unsupportedParameter('logit_bias', ctx);
}

function translateMessages(req: ChatRequest): { contents: GeminiContent[]; system: GeminiPart[] } {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  // Gemini's functionResponse names the function, not the call; the name is recovered from
  // the assistant turn that made the call.
  const toolNames = new Map<string, string>();
  let previousWasTool = false;

  req.messages.forEach((m, i) => {
    const path = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(m.content, `${path}.content`));
        return;
      case 'user':
        contents.push({ role: 'user', parts: userParts(m.content, `${path}.content`) });
        previousWasTool = false;
        return;
      case 'assistant': {
        const parts = assistantParts(m, path, toolNames);
        if (parts.length > 0) contents.push({ role: 'model', parts });
        previousWasTool = false;
        return;
      }
      case 'tool': {
        const name = toolNames.get(m.tool_call_id);
        if (name === undefined)
          throw invalid(`${path}.tool_call_id`, 'no earlier assistant message has a tool call with this id');
        const part: GeminiPart = { functionResponse: { name, response: toolResponse(textOf(m.content)) } };
        const last = contents[contents.length - 1];
        // Answers to parallel calls belong in one turn, as Gemini's parallel-calling examples show.
        if (previousWasTool && last !== undefined) last.parts.push(part);
        else contents.push({ role: 'user', parts: [part] });
        previousWasTool = true;
        return;
      }
      default:
        throw invalid(`${path}.role`, 'unsupported role');
    }
  });
  return { contents, system };
}

function assistantParts(m: AssistantMessage, path: string, toolNames: Map<string, string>): GeminiPart[] {
  const parts: GeminiPart[] = [];
  // Clients often send `content: ""` next to tool calls; Gemini refuses empty text parts.
  if (m.content !== undefined && m.content !== null) {
    for (const p of textParts(m.content, `${path}.content`)) if (p.text !== '') parts.push(p);
  }
  (m.tool_calls ?? []).forEach((call, j) => {
    const args = parseArguments(call.function.arguments, `${path}.tool_calls[${j}].function.arguments`);
    toolNames.set(call.id, call.function.name);
    const part: GeminiPart = { functionCall: { name: call.function.name, args } };
    // Only the first call of a turn carries a signature (Gemini's parallel-call rule).
    if (j === 0) part.thoughtSignature = REPLAYED_CALL_SIGNATURE;
    parts.push(part);
  });
  return parts;
}

function parseArguments(raw: string, path: string): JsonObject {
  if (raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid(path, 'is not valid JSON');
  }
  if (!isPlainObject(parsed)) throw invalid(path, 'must be a JSON object');
  return parsed as JsonObject;
}

/**
 * Gemini wants an object. A tool result that is a JSON object is passed as is (an `error`
 * key keeps its documented meaning); anything else goes under the documented `output` key.
 */
function toolResponse(text: string): JsonObject {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isPlainObject(parsed)) return parsed as JsonObject;
  } catch {
    // not JSON: plain text output
  }
  return { output: text };
}

function functionCallingConfig(choice: ToolChoice): { mode: 'AUTO' | 'ANY' | 'NONE'; allowedFunctionNames?: string[] } {
  if (choice === 'auto') return { mode: 'AUTO' };
  if (choice === 'none') return { mode: 'NONE' };
  if (choice === 'required') return { mode: 'ANY' };
  return { mode: 'ANY', allowedFunctionNames: [choice.function.name] };
}

function buildGenerationConfig(req: ChatRequest): GeminiGenerationConfig {
  const c: GeminiGenerationConfig = {};
  if (req.temperature !== undefined) c.temperature = req.temperature;
  if (req.top_p !== undefined) c.topP = req.top_p;
  // max_completion_tokens is OpenAI's successor to max_tokens; it wins when both are sent.
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  if (maxTokens !== undefined) c.maxOutputTokens = maxTokens;
  if (req.stop !== undefined) c.stopSequences = typeof req.stop === 'string' ? [req.stop] : [...req.stop];
  if (req.n !== undefined) c.candidateCount = req.n;
  if (req.seed !== undefined) c.seed = req.seed;
  if (req.presence_penalty !== undefined) c.presencePenalty = req.presence_penalty;
  if (req.frequency_penalty !== undefined) c.frequencyPenalty = req.frequency_penalty;
  const format = req.response_format;
  if (format?.type === 'json_object') c.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    c.responseMimeType = 'application/json';
    // responseJsonSchema accepts JSON Schema, which is what OpenAI's json_schema carries;
    // responseSchema is Google's OpenAPI subset and would need the schema rewritten.
    if (format.json_schema.schema !== undefined) c.responseJsonSchema = format.json_schema.schema;
  }
  return c;
}
