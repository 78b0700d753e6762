/**
 * Payload caps: how much one request may ask for, beyond the raw body size. They stop a
 * single caller from sending work the gateway (or the provider bill) should not carry:
 * thousands of messages, megabytes of prompt, huge inline images, absurd output ceilings.
 */
import { type GatewayError, gatewayError } from '../../errors/gateway-error.ts';
import type { ChatRequest, EmbeddingsRequest } from '../../providers/canonical.ts';
import type { PayloadConfig } from './config-types.ts';

function tooMuch(what: string, path: string, actual: number, limit: number): GatewayError {
  return gatewayError('request.payload_limit', { params: { what, actual, limit }, param: path });
}

/** Decoded size of a base64 data: URL's payload, without decoding it. */
function dataUrlBytes(url: string): number {
  const comma = url.indexOf(',');
  const b64 = comma < 0 ? '' : url.slice(comma + 1);
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((b64.length * 3) / 4) - padding);
}

function textOf(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const part of content as Array<{ type?: string; text?: string }>)
    if (part.type === 'text' && typeof part.text === 'string') n += part.text.length;
  return n;
}

export function checkChatPayload(req: ChatRequest, caps: PayloadConfig): void {
  if (req.messages.length > caps.maxMessages)
    throw tooMuch('messages', 'messages', req.messages.length, caps.maxMessages);
  const tools = req.tools ?? [];
  if (tools.length > caps.maxTools) throw tooMuch('tools', 'tools', tools.length, caps.maxTools);
  for (const field of ['max_tokens', 'max_completion_tokens'] as const) {
    const v = req[field];
    if (v !== undefined && v > caps.maxOutputTokens) {
      throw gatewayError('request.output_limit', {
        params: { path: field, limit: caps.maxOutputTokens },
        param: field,
      });
    }
  }
  let images = 0;
  req.messages.forEach((m, i) => {
    if (m.role !== 'user' || typeof m.content === 'string') return;
    m.content.forEach((part, j) => {
      if (part.type !== 'image_url') return;
      images++;
      const path = `messages[${i}].content[${j}]`;
      if (images > caps.maxImages) throw tooMuch('images', path, images, caps.maxImages);
      const url = part.image_url.url;
      if (url.startsWith('data:')) {
        const bytes = dataUrlBytes(url);
        if (bytes > caps.maxImageBytes)
          throw tooMuch('image bytes', `${path}.image_url.url`, bytes, caps.maxImageBytes);
      }
    });
  });
  const chars = chatPromptChars(req);
  if (chars > caps.maxPromptChars) throw tooMuch('prompt characters', 'messages', chars, caps.maxPromptChars);
}

/** The prompt characters the cap counts: message text, tool-call names and arguments, tool definitions. */
export function chatPromptChars(req: ChatRequest): number {
  let chars = 0;
  for (const m of req.messages) {
    chars += textOf(m.content);
    if (m.role === 'assistant')
      for (const tc of m.tool_calls ?? []) chars += tc.function.arguments.length + tc.function.name.length;
  }
  for (const t of req.tools ?? [])
    chars +=
      t.function.name.length +
      (t.function.description?.length ?? 0) +
      (t.function.parameters ? JSON.stringify(t.function.parameters).length : 0);
  return chars;
}

/** Image parts in user messages, and the largest inline (data: URL) one's decoded bytes. */
export function chatImages(req: ChatRequest): { count: number; largestBytes: number } {
  let count = 0;
  let largestBytes = 0;
  for (const m of req.messages) {
    if (m.role !== 'user' || typeof m.content === 'string') continue;
    for (const part of m.content) {
      if (part.type !== 'image_url') continue;
      count++;
      if (part.image_url.url.startsWith('data:'))
        largestBytes = Math.max(largestBytes, dataUrlBytes(part.image_url.url));
    }
  }
  return { count, largestBytes };
}

/** The inputs the embeddings caps count: how many, and their characters (token arrays by length). */
export function embeddingsSize(req: EmbeddingsRequest): { inputs: number; chars: number } {
  const inputs: unknown[] =
    typeof req.input === 'string' || (Array.isArray(req.input) && typeof req.input[0] === 'number')
      ? [req.input]
      : (req.input as unknown[]);
  let chars = 0;
  for (const x of inputs) chars += typeof x === 'string' ? x.length : Array.isArray(x) ? x.length : 0;
  return { inputs: inputs.length, chars };
}

export function checkEmbeddingsPayload(req: EmbeddingsRequest, caps: PayloadConfig): void {
  const { inputs, chars } = embeddingsSize(req);
  if (inputs > caps.maxEmbeddingInputs) throw tooMuch('embedding inputs', 'input', inputs, caps.maxEmbeddingInputs);
  if (chars > caps.maxPromptChars) throw tooMuch('input characters', 'input', chars, caps.maxPromptChars);
}
