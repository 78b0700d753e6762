/**
 * The token estimate reserved before an upstream call: prompt ≈ characters / 4 (the usual rule
 * of thumb for English text with BPE tokenizers) plus the completion the request allows
 * (`max_completion_tokens` or `max_tokens`, else the configured default), times `n`. It only has
 * to be a fair reservation: the real usage settles it afterwards.
 */
import type { CanonicalRequest } from '../core/context.ts';
import type { ChatMessage, ChatRequest, EmbeddingsRequest } from '../providers/canonical.ts';

const CHARS_PER_TOKEN = 4;
/** Per-message framing (role, separators) that chat formats add. */
const MESSAGE_OVERHEAD_TOKENS = 4;
/** An image part: providers bill a few hundred to ~1,500 tokens depending on size and detail. */
const IMAGE_TOKENS = 1000;

export function estimateTokens(req: CanonicalRequest, defaultMaxTokens: number): number {
  const parts = estimateTokenParts(req, defaultMaxTokens);
  return parts.prompt + parts.completion;
}

/** The estimate split into prompt and completion (budgets price them differently). */
export function estimateTokenParts(
  req: CanonicalRequest,
  defaultMaxTokens: number,
): { prompt: number; completion: number } {
  if (req.operation === 'chat') return estimateChat(req.body, defaultMaxTokens);
  if (req.operation === 'embeddings') return { prompt: estimateEmbeddings(req.body), completion: 0 };
  return { prompt: 0, completion: 0 };
}

/** Completion tokens for generated text the provider did not count (≈ characters / 4). */
export function estimateTextTokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

function estimateChat(body: ChatRequest, defaultMaxTokens: number): { prompt: number; completion: number } {
  let chars = 0;
  let fixed = 0;
  for (const m of body.messages) {
    fixed += MESSAGE_OVERHEAD_TOKENS;
    const counted = messageSize(m);
    chars += counted.chars;
    fixed += counted.images * IMAGE_TOKENS;
  }
  if (body.tools) chars += JSON.stringify(body.tools).length;
  if (body.response_format?.type === 'json_schema') chars += JSON.stringify(body.response_format.json_schema).length;
  const prompt = Math.ceil(chars / CHARS_PER_TOKEN) + fixed;
  const completion = body.max_completion_tokens ?? body.max_tokens ?? defaultMaxTokens;
  return { prompt, completion: completion * (body.n ?? 1) };
}

function messageSize(m: ChatMessage): { chars: number; images: number } {
  let chars = m.role.length + ('name' in m && m.name ? m.name.length : 0);
  let images = 0;
  const content = m.content;
  if (typeof content === 'string') chars += content.length;
  else if (Array.isArray(content)) {
    for (const part of content) {
      if (part.type === 'text') chars += part.text.length;
      else images++;
    }
  }
  if (m.role === 'assistant' && m.tool_calls) {
    for (const c of m.tool_calls) chars += c.function.name.length + c.function.arguments.length;
  }
  if (m.role === 'tool') chars += m.tool_call_id.length;
  return { chars, images };
}

function estimateEmbeddings(body: EmbeddingsRequest): number {
  const input = body.input;
  if (typeof input === 'string') return Math.max(1, Math.ceil(input.length / CHARS_PER_TOKEN));
  let tokens = 0;
  for (const item of input) {
    if (typeof item === 'string') tokens += Math.ceil(item.length / CHARS_PER_TOKEN);
    else if (typeof item === 'number') tokens += 1;
    else tokens += item.length;
  }
  return Math.max(1, tokens);
}
