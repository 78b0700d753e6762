/**
 * Canonical ChatRequest → OpenAI request body. The canonical format *is* OpenAI's, so this is a
 * copy, but a deliberate one: a new object holding only the fields the canonical types define,
 * so that nothing a client smuggled in (or a later canonical field this adapter does not know)
 * is forwarded upstream.
 */
import type {
  ChatMessage,
  ChatRequest,
  ContentPart,
  ResponseFormat,
  TextPart,
  ToolChoice,
  ToolDefinition,
} from '../canonical.ts';

export interface OpenAiBodyOptions {
  readonly upstreamModel: string;
  /**
   * Compatible servers (vLLM, Ollama, llama.cpp) predate the `developer` role and know nothing of
   * OpenAI's dashboard `metadata`; for them `developer` becomes `system` and metadata stays home.
   */
  readonly compatible: boolean;
}

type Body = Record<string, unknown>;

/** Scalar request fields copied as they are when present. */
const SCALAR_FIELDS = [
  'stop',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'seed',
  'user',
  'n',
  'presence_penalty',
  'frequency_penalty',
  'logprobs',
  'top_logprobs',
  'parallel_tool_calls',
] as const satisfies readonly (keyof ChatRequest)[];

export function buildOpenAiChatBody(req: ChatRequest, opts: OpenAiBodyOptions): Body {
  const body: Body = {
    model: opts.upstreamModel,
    messages: req.messages.map((m) => copyMessage(m, opts.compatible)),
  };
  for (const field of SCALAR_FIELDS) {
    const v = req[field];
    if (v !== undefined) body[field] = Array.isArray(v) ? [...v] : v;
  }
  if (req.stream === true) {
    body.stream = true;
    // Always metered: the surface hides the usage chunk from clients that did not ask for it.
    body.stream_options = { include_usage: true };
  }
  if (req.tools !== undefined) body.tools = req.tools.map(copyTool);
  if (req.tool_choice !== undefined) body.tool_choice = copyToolChoice(req.tool_choice);
  if (req.response_format !== undefined) body.response_format = copyResponseFormat(req.response_format);
  if (req.logit_bias !== undefined) body.logit_bias = { ...req.logit_bias };
  if (req.metadata !== undefined && !opts.compatible) body.metadata = { ...req.metadata };
  return body;
}

function copyText(parts: string | TextPart[]): string | TextPart[] {
  return typeof parts === 'string' ? parts : parts.map((p) => ({ type: 'text', text: p.text }));
}

function copyPart(p: ContentPart): ContentPart {
  if (p.type === 'text') return { type: 'text', text: p.text };
  const image: { url: string; detail?: 'auto' | 'low' | 'high' } = { url: p.image_url.url };
  if (p.image_url.detail !== undefined) image.detail = p.image_url.detail;
  return { type: 'image_url', image_url: image };
}

function copyMessage(m: ChatMessage, compatible: boolean): Body {
  switch (m.role) {
    case 'system':
    case 'developer': {
      const out: Body = { role: compatible ? 'system' : m.role, content: copyText(m.content) };
      if (m.name !== undefined) out.name = m.name;
      return out;
    }
    case 'user': {
      const out: Body = { role: 'user', content: typeof m.content === 'string' ? m.content : m.content.map(copyPart) };
      if (m.name !== undefined) out.name = m.name;
      return out;
    }
    case 'assistant': {
      const out: Body = { role: 'assistant' };
      if (m.content !== undefined) out.content = m.content === null ? null : copyText(m.content);
      if (m.name !== undefined) out.name = m.name;
      if (m.refusal !== undefined) out.refusal = m.refusal;
      if (m.tool_calls !== undefined) {
        out.tool_calls = m.tool_calls.map((tc) => ({
          id: tc.id,
          type: 'function',
          function: { name: tc.function.name, arguments: tc.function.arguments },
        }));
      }
      return out;
    }
    case 'tool':
      return { role: 'tool', content: copyText(m.content), tool_call_id: m.tool_call_id };
  }
}

export function copyTool(t: ToolDefinition): Body {
  const fn: Body = { name: t.function.name };
  if (t.function.description !== undefined) fn.description = t.function.description;
  if (t.function.parameters !== undefined) fn.parameters = t.function.parameters;
  if (t.function.strict !== undefined) fn.strict = t.function.strict;
  return { type: 'function', function: fn };
}

function copyToolChoice(c: ToolChoice): ToolChoice {
  return typeof c === 'string' ? c : { type: 'function', function: { name: c.function.name } };
}

export function copyResponseFormat(f: ResponseFormat): Body {
  if (f.type !== 'json_schema') return { type: f.type };
  const schema: Body = { name: f.json_schema.name };
  if (f.json_schema.description !== undefined) schema.description = f.json_schema.description;
  if (f.json_schema.schema !== undefined) schema.schema = f.json_schema.schema;
  if (f.json_schema.strict !== undefined) schema.strict = f.json_schema.strict;
  return { type: 'json_schema', json_schema: schema };
}
