/**
 * Anthropic prompt caching, emulated deterministically. A `cache_control` breakpoint on a tool,
 * a system block or a message block marks the end of a cacheable prefix (tools, then system,
 * then messages, as Anthropic orders them). Per breakpoint, in order: the longest prefix this
 * emulator has seen before (for the same model) is a cache hit and its tokens are
 * `cache_read_input_tokens`; each later breakpoint writes the tokens since the previous one
 * with its own lifetime (`ttl` "1h", else 5 minutes); what follows the last breakpoint is
 * `input_tokens`. Entries never expire within the process and there is no minimum length, so a
 * repeat of a request always reads what the first one wrote.
 *
 * Token counts follow the emulator's prompt count (src/mock-upstream/core/tokenizer.ts): a
 * message's text is its blocks' text joined by newlines plus the per-message overhead, and
 * tools count nothing, so the three figures always add up to that count.
 */
import { createHash } from 'node:crypto';
import { countTokens, MESSAGE_OVERHEAD_TOKENS } from '../core/tokenizer.ts';
import { isObject, type JsonObject } from '../core/types.ts';
import { blockText } from './conversation.ts';

export interface CacheUsage {
  readonly input: number;
  readonly cacheRead: number;
  readonly cacheWrite5m: number;
  readonly cacheWrite1h: number;
}

export interface PromptCache {
  /** Splits `promptTokens` (the emulator's count for this request) and remembers the prefixes. */
  account(body: JsonObject, promptTokens: number): CacheUsage;
}

interface Breakpoint {
  /** Hash of the request prefix up to and including the marked block (without cache_control). */
  readonly key: string;
  /** Prompt tokens of that prefix. */
  readonly tokens: number;
  readonly oneHour: boolean;
}

/** Bounds the emulator's memory in long benchmark runs; the oldest entries go first. */
const MAX_ENTRIES = 10_000;

function withoutCacheControl(block: unknown): unknown {
  if (!isObject(block)) return block;
  const { cache_control: _cc, ...rest } = block;
  return rest;
}

function marked(block: unknown): { oneHour: boolean } | undefined {
  if (!isObject(block) || !isObject(block['cache_control'])) return undefined;
  return { oneHour: block['cache_control']['ttl'] === '1h' };
}

function blocksOf(content: unknown): unknown[] {
  return Array.isArray(content) ? content : [];
}

/** Every breakpoint of a request, in prompt order, with the tokens of the prefix it ends. */
export function breakpointsOf(body: JsonObject): Breakpoint[] {
  const out: Breakpoint[] = [];
  const prefix: unknown[] = [String(body['model'] ?? '')];
  let tokensBefore = 0;
  const add = (tokens: number, oneHour: boolean): void => {
    const key = createHash('sha256').update(JSON.stringify(prefix)).digest('hex');
    out.push({ key, tokens, oneHour });
  };

  for (const tool of blocksOf(body['tools'])) {
    prefix.push(['tool', withoutCacheControl(tool)]);
    const m = marked(tool);
    if (m) add(0, m.oneHour);
  }
  const turns: Array<{ role: string; content: unknown }> = [];
  if (body['system'] !== undefined) turns.push({ role: 'system', content: body['system'] });
  for (const msg of blocksOf(body['messages'])) {
    if (isObject(msg)) turns.push({ role: String(msg['role']), content: msg['content'] });
  }
  for (const turn of turns) {
    if (typeof turn.content === 'string') {
      prefix.push([turn.role, turn.content]);
      tokensBefore += countTokens(turn.content) + MESSAGE_OVERHEAD_TOKENS;
      continue;
    }
    const blocks = blocksOf(turn.content).filter(isObject);
    const texts: string[] = [];
    blocks.forEach((block) => {
      prefix.push([turn.role, withoutCacheControl(block)]);
      texts.push(blockText(block));
      const m = marked(block);
      if (m) add(tokensBefore + countTokens(texts.join('\n')) + MESSAGE_OVERHEAD_TOKENS, m.oneHour);
    });
    tokensBefore += countTokens(texts.join('\n')) + MESSAGE_OVERHEAD_TOKENS;
    prefix.push([turn.role, 'end']);
  }
  return out;
}

export function createPromptCache(): PromptCache {
  const seen = new Set<string>();
  const remember = (key: string): void => {
    seen.delete(key);
    seen.add(key);
    if (seen.size > MAX_ENTRIES) seen.delete(seen.values().next().value as string);
  };
  return {
    account(body, promptTokens) {
      const points = breakpointsOf(body);
      let hit = -1;
      points.forEach((p, i) => {
        if (seen.has(p.key)) hit = i;
      });
      let done = hit >= 0 ? Math.min(points[hit]!.tokens, promptTokens) : 0;
      const cacheRead = done;
      let cacheWrite5m = 0;
      let cacheWrite1h = 0;
      for (let i = hit + 1; i < points.length; i++) {
        const p = points[i]!;
        const upTo = Math.min(Math.max(p.tokens, done), promptTokens);
        if (p.oneHour) cacheWrite1h += upTo - done;
        else cacheWrite5m += upTo - done;
        done = upTo;
      }
      for (const p of points) remember(p.key);
      return { input: promptTokens - done, cacheRead, cacheWrite5m, cacheWrite1h };
    },
  };
}
