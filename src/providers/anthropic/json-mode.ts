/**
 * JSON output on Anthropic. The Messages API has no `response_format`; the dependable way to get
 * JSON (Anthropic's own tool-use guide recommends it) is a tool whose `input_schema` is the
 * wanted schema, with the model required to call it. Compared with a system instruction this
 * gives well-formed JSON every time and enforces the schema, and the tool input streams as
 * `input_json_delta` fragments, so JSON text can still be streamed to the client.
 *
 * The tool's input is returned to the client as the message's text content, and a call of it
 * ends the turn with finish_reason `stop`, as OpenAI's JSON mode would.
 */

import { gatewayError } from '../../errors/gateway-error.ts';
import type { ChatRequest, JsonObject } from '../canonical.ts';
import type { AnthropicTool } from './wire-types.ts';

/** Reserved: a client tool may not use this name (it would be mistaken for the JSON answer). */
export const JSON_RESPONSE_TOOL = 'portcullis_json_response';

/** The tool that carries the JSON answer, or undefined when the request wants plain text. */
export function jsonResponseTool(req: ChatRequest, publicModel: string): AnthropicTool | undefined {
  const format = req.response_format;
  if (format === undefined || format.type === 'text') return undefined;
  if (format.type === 'json_object') {
    return {
      name: JSON_RESPONSE_TOOL,
      description: 'Give your final answer by calling this tool. Its input is the answer, as one JSON object.',
      input_schema: { type: 'object' },
    };
  }
  const schema: JsonObject = format.json_schema.schema ?? { type: 'object' };
  if (schema['type'] !== 'object') {
    // Tool inputs must be objects; OpenAI's structured outputs have the same rule.
    throw gatewayError('request.unsupported_parameter', {
      params: { path: 'response_format.json_schema.schema', model: publicModel },
      param: 'response_format.json_schema.schema',
      internal: { reason: 'Anthropic tool input schemas must have type "object" at the root' },
    });
  }
  const purpose = format.json_schema.description ?? `the "${format.json_schema.name}" response`;
  const tool: AnthropicTool = {
    name: JSON_RESPONSE_TOOL,
    description: `Give your final answer by calling this tool. Its input is ${purpose}, as JSON matching the schema.`,
    input_schema: { ...schema, type: 'object' },
  };
  if (format.json_schema.strict === true) tool.strict = true;
  return tool;
}
