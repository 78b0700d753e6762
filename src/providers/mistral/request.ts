/**
 * Canonical ChatRequest → Mistral chat completions body. Mistral's API looks like OpenAI's but
 * answers 422 `extra_forbidden` to any field it does not define, so the body is built from an
 * allow-list and every difference is translated explicitly:
 * - `seed` → `random_seed`; `max_completion_tokens` → `max_tokens`;
 * - `tool_choice: "required"` → `"any"` (Mistral's name for "must call a tool");
 * - the `developer` role → `system`; `name` on messages is not accepted and is dropped;
 * - image parts are sent as Mistral's `image_url` chunks;
 * - tool-call ids are mapped to Mistral's 9-character form (see tool-call-ids.ts);
 * - no `stream_options`: Mistral's last stream chunk carries usage unasked;
 * - `user`, `metadata` and (unsupported) `logprobs`/`top_logprobs`/`logit_bias` are not sent;
 *   the route stage has already rejected or dropped the unsupported ones per policy.
 */
import type { ChatMessage, ChatRequest, ContentPart, TextPart, ToolChoice } from '../canonical.ts';
import { copyResponseFormat, copyTool } from '../openai/request.ts';
import { toMistralToolCallId } from './tool-call-ids.ts';

type Body = Record<string, unknown>;

const SCALAR_FIELDS = [
  'temperature',
  'top_p',
  'n',
  'presence_penalty',
  'frequency_penalty',
  'parallel_tool_calls',
] as const satisfies readonly (keyof ChatRequest)[];

export function buildMistralChatBody(req: ChatRequest, upstreamModel: string): Body {
  const body: Body = { model: upstreamModel, messages: translateMessages(req.messages) };
  for (const field of SCALAR_FIELDS) {
    if (req[field] !== undefined) body[field] = req[field];
  }
  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  if (maxTokens !== undefined) body.max_tokens = maxTokens;
  if (req.seed !== undefined) body.random_seed = req.seed;
  if (req.stop !== undefined) body.stop = Array.isArray(req.stop) ? [...req.stop] : req.stop;
  if (req.stream === true) body.stream = true;
  if (req.tools !== undefined) body.tools = req.tools.map(copyTool);
  if (req.tool_choice !== undefined) body.tool_choice = translateToolChoice(req.tool_choice);
  if (req.response_format !== undefined) body.response_format = copyResponseFormat(req.response_format);
  return body;
}

function translateToolChoice(c: ToolChoice): unknown {
  if (c === 'required') return 'any';
  return typeof c === 'string' ? c : { type: 'function', function: { name: c.function.name } };
}

function textChunks(content: string | TextPart[]): string | Body[] {
  return typeof content === 'string' ? content : content.map((p) => ({ type: 'text', text: p.text }));
}

function joinText(content: string | TextPart[]): string {
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}

function userChunk(p: ContentPart): Body {
  if (p.type === 'text') return { type: 'text', text: p.text };
  // Mistral's documented form is the bare URL (https or data:); `detail` needs the object form.
  const imageUrl =
    p.image_url.detail === undefined ? p.image_url.url : { url: p.image_url.url, detail: p.image_url.detail };
  return { type: 'image_url', image_url: imageUrl };
}

function translateMessages(messages: readonly ChatMessage[]): Body[] {
  // Tool results name the function they answer; the name comes from the assistant's call.
  const toolNames = new Map<string, string>();
  return messages.map((m): Body => {
    switch (m.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: textChunks(m.content) };
      case 'user':
        return { role: 'user', content: typeof m.content === 'string' ? m.content : m.content.map(userChunk) };
      case 'assistant': {
        const out: Body = { role: 'assistant' };
        // A refusal is what the assistant said; without it the history would have a silent turn.
        const content = m.content ?? m.refusal ?? null;
        out.content = content === null ? null : textChunks(content);
        if (m.tool_calls !== undefined && m.tool_calls.length > 0) {
          out.tool_calls = m.tool_calls.map((tc) => {
            toolNames.set(tc.id, tc.function.name);
            return {
              id: toMistralToolCallId(tc.id),
              type: 'function',
              function: { name: tc.function.name, arguments: tc.function.arguments },
            };
          });
        }
        return out;
      }
      case 'tool': {
        const out: Body = {
          role: 'tool',
          content: joinText(m.content),
          tool_call_id: toMistralToolCallId(m.tool_call_id),
        };
        const name = toolNames.get(m.tool_call_id);
        if (name !== undefined) out.name = name;
        return out;
      }
    }
    // Unreachable: the switch covers every role, and a new role fails to compile here.
    const unhandled: never = m;
    throw new Error(`unhandled message role: ${(unhandled as ChatMessage).role}`);
  });
}
