/**
 * Canonical messages → Anthropic `system` + `messages`. Anthropic keeps system text out of the
 * conversation, wants tool results as `tool_result` blocks in a user turn, and requires user and
 * assistant turns to alternate, so consecutive turns of the same role are merged.
 */

import { type GatewayError, gatewayError } from '../../errors/gateway-error.ts';
import type { AssistantMessage, CacheControl, ChatMessage, ContentPart, TextPart } from '../canonical.ts';
import {
  ANTHROPIC_IMAGE_MEDIA_TYPES,
  type AnthropicCacheControl,
  type AnthropicContentBlock,
  type AnthropicImageBlock,
  type AnthropicImageMediaType,
  type AnthropicMessageParam,
  type AnthropicTextBlock,
  type AnthropicToolResultBlock,
} from './wire-types.ts';

export interface ConvertedMessages {
  system: string | AnthropicTextBlock[] | undefined;
  messages: AnthropicMessageParam[];
}

function invalid(path: string, detail: string): GatewayError {
  return gatewayError('request.invalid', { params: { path, detail }, param: path });
}

function textBlocks(content: string | TextPart[] | null | undefined): AnthropicTextBlock[] {
  if (content === null || content === undefined) return [];
  const parts = typeof content === 'string' ? [{ type: 'text' as const, text: content }] : content;
  // Anthropic rejects empty text blocks; an empty string carries nothing anyway.
  return parts
    .filter((p) => p.text !== '')
    .map((p) => withCacheControl<AnthropicTextBlock>({ type: 'text', text: p.text }, p.cache_control));
}

/** A client's prompt-cache breakpoint, copied field by field (the canonical type allows nothing else). */
function withCacheControl<B extends { cache_control?: AnthropicCacheControl }>(
  block: B,
  cc: CacheControl | undefined,
): B {
  if (cc === undefined) return block;
  block.cache_control = cc.ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl: cc.ttl };
  return block;
}

const DATA_URL = /^data:([a-z]+\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=\s]*)$/i;

export function imageBlock(url: string, path: string): AnthropicImageBlock {
  if (url.startsWith('data:')) {
    const m = DATA_URL.exec(url);
    if (m === null) throw invalid(path, 'data URLs must be base64-encoded (data:<media type>;base64,<data>)');
    const mediaType = (m[1] ?? '').toLowerCase();
    if (!(ANTHROPIC_IMAGE_MEDIA_TYPES as readonly string[]).includes(mediaType)) {
      throw invalid(path, `image media type must be one of ${ANTHROPIC_IMAGE_MEDIA_TYPES.join(', ')}`);
    }
    return {
      type: 'image',
      source: {
        type: 'base64',
        media_type: mediaType as AnthropicImageMediaType,
        data: (m[2] ?? '').replace(/\s/g, ''),
      },
    };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalid(path, 'image URLs must be https://, http:// or base64 data: URLs');
}

function userBlocks(content: string | ContentPart[], path: string): AnthropicContentBlock[] {
  if (typeof content === 'string') return textBlocks(content);
  return content.flatMap((part, i): AnthropicContentBlock[] =>
    part.type === 'text'
      ? textBlocks([part])
      : [withCacheControl(imageBlock(part.image_url.url, `${path}[${i}].image_url.url`), part.cache_control)],
  );
}

function assistantBlocks(msg: AssistantMessage, path: string): AnthropicContentBlock[] {
  const blocks: AnthropicContentBlock[] = textBlocks(msg.content);
  if (blocks.length === 0 && msg.refusal) blocks.push({ type: 'text', text: msg.refusal });
  (msg.tool_calls ?? []).forEach((call, i) => {
    const argsPath = `${path}.tool_calls[${i}].function.arguments`;
    let input: unknown;
    try {
      input = call.function.arguments.trim() === '' ? {} : JSON.parse(call.function.arguments);
    } catch {
      throw invalid(argsPath, 'tool call arguments must be valid JSON');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw invalid(argsPath, 'tool call arguments must be a JSON object');
    }
    blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input });
  });
  return blocks;
}

export function convertMessages(messages: readonly ChatMessage[]): ConvertedMessages {
  const system: AnthropicTextBlock[] = [];
  let systemIsOneString = true;
  const turns: AnthropicMessageParam[] = [];

  const append = (role: 'user' | 'assistant', blocks: AnthropicContentBlock[]): void => {
    if (blocks.length === 0) return;
    const last = turns[turns.length - 1];
    if (last !== undefined && last.role === role && Array.isArray(last.content)) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };

  messages.forEach((msg, i) => {
    const path = `messages[${i}]`;
    switch (msg.role) {
      case 'system':
      case 'developer':
        // Anthropic has one top-level system prompt; mid-conversation instructions join it.
        if (typeof msg.content !== 'string' || system.length > 0) systemIsOneString = false;
        system.push(...textBlocks(msg.content));
        break;
      case 'user':
        append('user', userBlocks(msg.content, `${path}.content`));
        break;
      case 'assistant':
        append('assistant', assistantBlocks(msg, path));
        break;
      case 'tool': {
        const content = typeof msg.content === 'string' ? msg.content : textBlocks(msg.content);
        append('user', [
          withCacheControl<AnthropicToolResultBlock>(
            { type: 'tool_result', tool_use_id: msg.tool_call_id, content },
            msg.cache_control,
          ),
        ]);
        break;
      }
    }
  });

  for (const turn of turns) {
    // Anthropic wants a user turn's tool results before anything else in it.
    if (turn.role === 'user' && Array.isArray(turn.content)) {
      const results = turn.content.filter((b) => b.type === 'tool_result');
      if (results.length > 0) turn.content = [...results, ...turn.content.filter((b) => b.type !== 'tool_result')];
    }
  }

  let systemOut: string | AnthropicTextBlock[] | undefined;
  if (system.length === 0) systemOut = undefined;
  else if (systemIsOneString && system.length === 1 && system[0]?.cache_control === undefined)
    systemOut = system[0]?.text;
  else systemOut = system;
  return { system: systemOut, messages: turns };
}
