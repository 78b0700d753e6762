/** Canonical ChatRequest → Anthropic `POST /messages`. */

import { type GatewayError, gatewayError } from '../../errors/gateway-error.ts';
import type { ChatRequest, ToolChoice } from '../canonical.ts';
import type { AdapterCallContext, UpstreamHttpRequest } from '../contract.ts';
import { JSON_RESPONSE_TOOL, jsonResponseTool } from './json-mode.ts';
import { convertMessages } from './request-messages.ts';
import {
  ANTHROPIC_VERSION,
  type AnthropicMessagesRequest,
  type AnthropicTool,
  type AnthropicToolChoice,
} from './wire-types.ts';

/**
 * Anthropic requires `max_tokens`; OpenAI-style clients usually omit it. 4096 is the largest
 * output every current Claude model accepts, so the default never makes a valid request fail.
 */
export const DEFAULT_MAX_TOKENS = 4096;

/** Anthropic documents temperature as 0..1 (OpenAI allows up to 2); larger values are refused, not clamped. */
const MAX_TEMPERATURE = 1;

function unsupported(path: string, publicModel: string, reason: string): GatewayError {
  return gatewayError('request.unsupported_parameter', {
    params: { path, model: publicModel },
    param: path,
    internal: { reason },
  });
}

/** Parameters Anthropic cannot honour. Default values change nothing, so only others are refused. */
function rejectUnsupported(req: ChatRequest, publicModel: string): void {
  if (req.n !== undefined && req.n !== 1) throw unsupported('n', publicModel, 'Anthropic returns one choice');
  if (req.seed !== undefined) throw unsupported('seed', publicModel, 'Anthropic has no seed');
  if (req.logprobs === true) throw unsupported('logprobs', publicModel, 'Anthropic has no logprobs');
  if (req.top_logprobs !== undefined) throw unsupported('top_logprobs', publicModel, 'Anthropic has no logprobs');
  if (req.logit_bias !== undefined && Object.keys(req.logit_bias).length > 0) {
    throw unsupported('logit_bias', publicModel, 'Anthropic has no logit_bias');
  }
  if (req.presence_penalty !== undefined && req.presence_penalty !== 0) {
    throw unsupported('presence_penalty', publicModel, 'Anthropic has no penalties');
  }
  if (req.frequency_penalty !== undefined && req.frequency_penalty !== 0) {
    throw unsupported('frequency_penalty', publicModel, 'Anthropic has no penalties');
  }
  if (req.temperature !== undefined && req.temperature > MAX_TEMPERATURE) {
    throw unsupported('temperature', publicModel, 'Anthropic temperature range is 0..1');
  }
}

function clientTools(req: ChatRequest): AnthropicTool[] {
  return (req.tools ?? []).map((t, i) => {
    if (t.function.name === JSON_RESPONSE_TOOL) {
      throw gatewayError('request.invalid', {
        params: {
          path: `tools[${i}].function.name`,
          detail: `the name ${JSON_RESPONSE_TOOL} is reserved by the gateway`,
        },
        param: `tools[${i}].function.name`,
      });
    }
    const tool: AnthropicTool = {
      name: t.function.name,
      input_schema: { type: 'object', ...(t.function.parameters ?? {}) },
    };
    if (t.function.description !== undefined) tool.description = t.function.description;
    if (t.function.strict !== undefined) tool.strict = t.function.strict;
    if (t.cache_control !== undefined)
      tool.cache_control =
        t.cache_control.ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl: t.cache_control.ttl };
    return tool;
  });
}

function withParallel(choice: AnthropicToolChoice, parallel: boolean | undefined): AnthropicToolChoice {
  if (parallel === false && choice.type !== 'none') return { ...choice, disable_parallel_tool_use: true };
  return choice;
}

/**
 * With JSON output requested the model must end by calling a tool: its answer is either a call
 * to one of the client's tools or the JSON tool. A client's explicit `required` or named choice
 * means this turn is a tool call anyway, so the JSON tool is left out then.
 */
function toolsAndChoice(
  req: ChatRequest,
  publicModel: string,
): { tools?: AnthropicTool[]; tool_choice?: AnthropicToolChoice } {
  const tools = clientTools(req);
  const json = jsonResponseTool(req, publicModel);
  const choice: ToolChoice | undefined = req.tool_choice;
  const forcesClientTool = choice === 'required' || typeof choice === 'object';

  if (json !== undefined && !forcesClientTool) {
    const useClientTools = tools.length > 0 && choice !== 'none';
    const all = useClientTools ? [...tools, json] : [json];
    const wire: AnthropicToolChoice = useClientTools ? { type: 'any' } : { type: 'tool', name: JSON_RESPONSE_TOOL };
    return { tools: all, tool_choice: withParallel(wire, useClientTools ? req.parallel_tool_calls : undefined) };
  }
  if (tools.length === 0) {
    if (choice !== undefined && choice !== 'none' && choice !== 'auto') {
      throw gatewayError('request.invalid', {
        params: { path: 'tool_choice', detail: 'a tool choice needs tools' },
        param: 'tool_choice',
      });
    }
    return {};
  }
  let wire: AnthropicToolChoice | undefined;
  if (choice === 'auto') wire = { type: 'auto' };
  else if (choice === 'none') wire = { type: 'none' };
  else if (choice === 'required') wire = { type: 'any' };
  else if (choice !== undefined) wire = { type: 'tool', name: choice.function.name };
  if (req.parallel_tool_calls === false) wire = withParallel(wire ?? { type: 'auto' }, false);
  return wire === undefined ? { tools } : { tools, tool_choice: wire };
}

export function buildMessagesBody(req: ChatRequest, ctx: AdapterCallContext): AnthropicMessagesRequest {
  rejectUnsupported(req, ctx.publicModel);
  const { system, messages } = convertMessages(req.messages);
  const body: AnthropicMessagesRequest = {
    model: ctx.upstreamModel,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages,
  };
  if (system !== undefined) body.system = system;
  if (req.stop !== undefined) body.stop_sequences = typeof req.stop === 'string' ? [req.stop] : [...req.stop];
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.top_p !== undefined) body.top_p = req.top_p;
  Object.assign(body, toolsAndChoice(req, ctx.publicModel));
  if (req.user !== undefined) body.metadata = { user_id: req.user };
  if (req.stream === true) body.stream = true;
  return body;
}

export function buildChatRequest(req: ChatRequest, ctx: AdapterCallContext): UpstreamHttpRequest {
  return {
    method: 'POST',
    path: '/messages',
    headers: { 'anthropic-version': ANTHROPIC_VERSION, 'content-type': 'application/json' },
    body: buildMessagesBody(req, ctx),
    stream: req.stream === true,
  };
}
