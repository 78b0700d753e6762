/**
 * An upper bound on the prompt tokens a provider can bill for a request, for budget
 * reservations that must never fall short of the real cost.
 *
 * - OpenAI models with a known encoding (o200k_base, cl100k_base) are counted with that
 *   tokenizer: the text of a message is billed as exactly its tokens.
 * - Everywhere else, text is bounded by its UTF-8 length. Every tokenizer these providers use
 *   is byte-level BPE (Claude, Llama 3, Mistral's Tekken) or SentencePiece with byte fallback
 *   (Gemini, older Mistral/Llama): a token covers at least one byte, and the only token that
 *   covers none is SentencePiece's dummy-prefix `▁`, at most one per text segment, which is
 *   the `+ 1` per segment below.
 * - The chat format's own tokens (role markers, separators) are an allowance per message and
 *   per request: OpenAI's are 4 per message (`<|im_start|>`, role, `<|im_sep|>`, `<|im_end|>`)
 *   plus 3 priming the reply (OpenAI cookbook, "How to count tokens with tiktoken"); other
 *   providers do not publish theirs, their templates put a few marker tokens around each turn,
 *   and the allowance is twice OpenAI's.
 * - Structure the provider re-renders before tokenizing (tool definitions, tool calls, a JSON
 *   schema) is bounded by its JSON's UTF-8 length plus an allowance per item: the renderings
 *   (OpenAI's TypeScript-like `namespace functions`, Anthropic's tool prompt) drop JSON's
 *   quotes, braces and keys and add a constant frame per function. Anthropic also adds its
 *   documented tool-use system prompt (at most 530 tokens across its models).
 * - Images as each provider bills them at most (see `imageTokens`).
 */
import type { CanonicalRequest } from '../core/context.ts';
import type { ChatMessage, ChatRequest, EmbeddingsRequest } from '../providers/canonical.ts';
import type { ProviderKind } from '../providers/contract.ts';
import {
  loadedTokenCounter,
  loadTokenCounter,
  openAiEncodingFor,
  type TokenCounter,
} from '../providers/openai/tokenizer.ts';

export interface TokenizedTarget {
  readonly kind: ProviderKind;
  /** The upstream model name (the target's, not the public one). */
  readonly model: string;
}

const REQUEST_OVERHEAD = 16;
const MESSAGE_OVERHEAD = 8;
const ITEM_OVERHEAD = 32;
const ANTHROPIC_TOOL_PROMPT = 600;

/** A text segment's bound when no tokenizer is known: one token per byte, plus a dummy prefix. */
const byteBound: TokenCounter = (text) => Buffer.byteLength(text, 'utf8') + 1;

/**
 * Tokenizing costs about 0.1 ms per KB on the event loop; past this much text in one request
 * the rest is bounded by its bytes instead (o200k and cl100k are byte-level BPE, so that is
 * still an upper bound), which keeps a 2 MB prompt from stalling every other request.
 */
const TOKENIZE_MAX_CHARS = 32 * 1024;

function budgeted(count: TokenCounter): TokenCounter {
  let left = TOKENIZE_MAX_CHARS;
  return (text) => {
    if (text.length > left) return byteBound(text);
    left -= text.length;
    return count(text);
  };
}

/**
 * `bytes` bounds every text segment by its UTF-8 length even where the model's tokenizer is
 * known: still an upper bound (see above), several times looser for English text, and nearly
 * free. The budget stage reserves with it first and tokenizes only when that reservation does
 * not fit.
 */
export type BoundMode = 'exact' | 'bytes';

export async function promptTokenBound(
  req: CanonicalRequest,
  target: TokenizedTarget,
  mode: BoundMode = 'exact',
): Promise<number> {
  if (req.operation === 'models') return 0;
  const encoding = mode === 'bytes' ? undefined : openAiEncodingFor(target.model);
  const count =
    encoding === undefined ? byteBound : budgeted(loadedTokenCounter(encoding) ?? (await loadTokenCounter(encoding)));
  return req.operation === 'chat' ? chatBound(req.body, target, count) : embeddingsBound(req.body, count);
}

function chatBound(body: ChatRequest, target: TokenizedTarget, count: TokenCounter): number {
  let tokens = REQUEST_OVERHEAD;
  const image = imageTokens(target);
  for (const m of body.messages) tokens += messageBound(m, count, image);
  if (body.tools !== undefined && body.tools.length > 0) {
    tokens += jsonBytes(body.tools) + ITEM_OVERHEAD * body.tools.length;
    if (target.kind === 'anthropic') tokens += ANTHROPIC_TOOL_PROMPT;
  }
  if (body.response_format?.type === 'json_schema')
    tokens += jsonBytes(body.response_format.json_schema) + ITEM_OVERHEAD;
  return tokens;
}

function messageBound(m: ChatMessage, count: TokenCounter, image: number): number {
  let tokens = MESSAGE_OVERHEAD;
  if ('name' in m && m.name !== undefined && m.name !== '') tokens += count(m.name) + 1;
  const content = m.content;
  if (typeof content === 'string') tokens += count(content);
  else if (Array.isArray(content)) {
    // Parts are joined by the provider; a separator between two parts is one more token at most.
    for (const part of content) tokens += part.type === 'text' ? count(part.text) + 1 : image;
  }
  if (m.role === 'assistant') {
    if (m.refusal) tokens += count(m.refusal) + 1; // + 1: its separator from the content
    for (const c of m.tool_calls ?? []) {
      tokens +=
        Buffer.byteLength(c.function.name, 'utf8') +
        Buffer.byteLength(c.function.arguments, 'utf8') +
        Buffer.byteLength(c.id, 'utf8') +
        ITEM_OVERHEAD;
    }
  }
  if (m.role === 'tool') tokens += Buffer.byteLength(m.tool_call_id, 'utf8') + 1;
  return tokens;
}

function embeddingsBound(body: EmbeddingsRequest, count: TokenCounter): number {
  const input = body.input;
  if (typeof input === 'string') return count(input);
  let tokens = 0;
  for (const item of input) {
    if (typeof item === 'string') tokens += count(item);
    else if (typeof item === 'number') tokens += 1;
    else tokens += item.length;
  }
  return Math.max(1, tokens);
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * The most one image part can be billed, from each provider's published sizing rules:
 * - OpenAI scales every image to fit 2048×2048 and then its short side to 768, so at most
 *   2×4 tiles of 512 px: gpt-4o-mini bills 2,833 + 5,667 per tile (48,169); the other models
 *   bill less (gpt-4o 85 + 170 per tile = 1,445; o1/o3 1,275; gpt-5 1,190), and the
 *   patch-based ones at most 1,536 patches × their multiplier (gpt-4.1-nano 2.46: 3,779).
 * - Anthropic scales an image down when it would exceed about 1,600 tokens (width × height /
 *   750); 1,750 leaves room for the "about".
 * - Gemini bills 258 tokens per 768 px tile with no published ceiling; 16 tiles (a 3072×3072
 *   image) is an allowance, not a proof, for larger images.
 * - Mistral (Pixtral) and unknown OpenAI-compatible servers: one token per 16×16 patch of a
 *   1,540 px square plus row breaks stays under 10,000.
 */
function imageTokens(target: TokenizedTarget): number {
  const model = target.model.toLowerCase();
  if (openAiEncodingFor(model) !== undefined) return /(^|:)gpt-4o-mini/.test(model) ? 48_169 : 3_779;
  if (target.kind === 'anthropic') return 1_750;
  if (target.kind === 'gemini') return 258 * 16;
  return 10_000;
}
