/**
 * A body of the same shape as a recorded request, built from its decision inputs alone: the
 * same number of messages, tools and images (the largest inline one at its recorded size),
 * the same prompt characters as the payload caps count them, the same token estimate as the
 * limits reserve, the same completion cap, `n`, stream flag and prompt-caching hint. Its text
 * is filler; no stage that reads it looks at anything but these quantities, except the
 * budgets' tokenizer bound for OpenAI models (which counts filler tokens, so a dry-run's
 * budget reservations for those models are approximate; settled spend is the recorded one).
 */
import type { CanonicalRequest } from '../core/context.ts';
import type { DecisionInputs } from '../policy/decision-inputs.ts';
import type { ChatMessage, ChatRequest, ContentPart, ToolDefinition } from '../providers/canonical.ts';
import type { RequestRecord } from '../store/store.ts';

/** Per-message framing tokens and image tokens of src/limits/estimate.ts. */
const MESSAGE_OVERHEAD_TOKENS = 4;
const IMAGE_TOKENS = 1000;
const CHARS_PER_TOKEN = 4;

export function syntheticRequest(record: RequestRecord, inputs: DecisionInputs): CanonicalRequest {
  const model = record.model ?? '';
  if (record.operation === 'embeddings') {
    const input = Array.from({ length: Math.max(1, inputs.items) }, (_, i) =>
      i === 0 ? 'x'.repeat(inputs.promptChars) : '',
    );
    return { operation: 'embeddings', body: { model, input: input.length === 1 ? input[0]! : input } };
  }
  const tools: ToolDefinition[] = Array.from({ length: inputs.tools }, () => ({
    type: 'function',
    function: { name: 'f' },
  }));
  const contentChars = Math.max(0, inputs.promptChars - inputs.tools);
  const messageCount = Math.max(1, inputs.items);
  const first: ContentPart[] = [
    {
      type: 'text',
      text: 'x'.repeat(contentChars),
      ...(inputs.cacheHint === 'none'
        ? {}
        : {
            cache_control: { type: 'ephemeral' as const, ...(inputs.cacheHint === '1h' ? { ttl: '1h' as const } : {}) },
          }),
    },
  ];
  for (let i = 0; i < inputs.images; i++) {
    const inline = i === 0 && inputs.largestImageBytes > 0;
    first.push({
      type: 'image_url',
      image_url: { url: inline ? dataUrlOf(inputs.largestImageBytes) : 'https://replay.invalid/image.png' },
    });
  }
  const messages: ChatMessage[] = Array.from({ length: messageCount }, (_, i) =>
    i === 0
      ? { role: 'user', content: first.length === 1 && inputs.cacheHint === 'none' ? 'x'.repeat(contentChars) : first }
      : { role: 'user', content: '' },
  );
  // Pad the first message's name so the token estimate's characters match the recorded estimate.
  const fixed = messageCount * MESSAGE_OVERHEAD_TOKENS + inputs.images * IMAGE_TOKENS;
  const chars = messageCount * 'user'.length + contentChars + (tools.length > 0 ? JSON.stringify(tools).length : 0);
  const pad = CHARS_PER_TOKEN * (inputs.promptTokens - fixed) - chars;
  if (pad > 0) messages[0] = { ...(messages[0] as ChatMessage & { role: 'user' }), name: 'x'.repeat(pad) };
  const body: ChatRequest = {
    model,
    messages,
    ...(tools.length > 0 ? { tools } : {}),
    ...(inputs.maxTokensField === undefined ? {} : { [inputs.maxTokensField]: inputs.maxTokens }),
    ...(inputs.n === 1 ? {} : { n: inputs.n }),
    ...(record.stream ? { stream: true } : {}),
  };
  return { operation: 'chat', body };
}

/** A base64 data: URL whose payload decodes to exactly `bytes` bytes. */
function dataUrlOf(bytes: number): string {
  const groups = Math.floor(bytes / 3);
  const rest = bytes % 3;
  const tail = rest === 0 ? '' : rest === 1 ? 'AA==' : 'AAA=';
  return `data:image/png;base64,${'AAAA'.repeat(groups)}${tail}`;
}
