/**
 * From what a call used to what it cost. Tokens are the provider's reported usage, exactly,
 * whenever it reported any; only when it did not (a server that ignores `stream_options`, a
 * stream cut short, a client gone mid-stream) does the gateway count them itself: the prompt
 * with the same estimate as reservations (≈ characters / 4) and the completion from the text it
 * actually relayed. Such a record is marked `usageEstimated`.
 */
import type { CanonicalRequest, MeteredUsage } from '../core/context.ts';
import { estimateTextTokens, estimateTokenParts } from '../limits/estimate.ts';
import type { CacheControl, ChatChunk, ChatRequest, ChatResponse, Usage } from '../providers/canonical.ts';
import { costMicros } from './money.ts';
import type { ModelPrice } from './price-table.ts';

export type { MeteredUsage } from '../core/context.ts';

/** Counts what a stream delivered, in case the provider never reports usage. */
export interface StreamTally {
  completionChars: number;
  chunks: number;
  usage: Usage | undefined;
}

export function newStreamTally(): StreamTally {
  return { completionChars: 0, chunks: 0, usage: undefined };
}

export function tallyChunk(t: StreamTally, chunk: ChatChunk): void {
  t.chunks++;
  if (chunk.usage) t.usage = chunk.usage;
  for (const c of chunk.choices) {
    const d = c.delta;
    if (typeof d.content === 'string') t.completionChars += d.content.length;
    if (typeof d.refusal === 'string') t.completionChars += d.refusal.length;
    for (const call of d.tool_calls ?? [])
      t.completionChars += (call.function?.name?.length ?? 0) + (call.function?.arguments?.length ?? 0);
  }
}

/** Characters of generated text in a whole response (for a provider that sent no usage). */
export function responseChars(body: ChatResponse): number {
  let chars = 0;
  for (const c of body.choices) {
    const m = c.message;
    if (typeof m.content === 'string') chars += m.content.length;
    if (typeof m.refusal === 'string') chars += m.refusal.length;
    for (const call of m.tool_calls ?? []) chars += call.function.name.length + call.function.arguments.length;
  }
  return chars;
}

export interface MeterInput {
  readonly request: CanonicalRequest | undefined;
  /** Usage the provider reported, if any. */
  readonly reported: Usage | undefined;
  /** Characters of completion relayed; undefined when no response was produced at all. */
  readonly completionChars: number | undefined;
  readonly price: ModelPrice | undefined;
}

export function meterUsage(input: MeterInput): MeteredUsage {
  let usage = input.reported;
  let estimated = false;
  if (
    usage === undefined &&
    input.completionChars !== undefined &&
    input.request !== undefined &&
    input.request.operation !== 'models'
  ) {
    const prompt = estimateTokenParts(input.request, 0).prompt;
    const completion = estimateTextTokens(input.completionChars);
    usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
    estimated = true;
  }
  if (usage === undefined)
    return {
      usage: undefined,
      estimated: false,
      cachedTokens: null,
      cacheWriteTokens: null,
      costMicros: 0,
      priceVersion: null,
    };
  const details = usage.prompt_tokens_details;
  const cached = Math.min(details?.cached_tokens ?? 0, usage.prompt_tokens);
  const written = Math.min(details?.cache_write_tokens ?? 0, usage.prompt_tokens - cached);
  const written1h = Math.min(details?.cache_write_1h_tokens ?? 0, written);
  const price = input.price;
  if (price === undefined)
    return { usage, estimated, cachedTokens: cached, cacheWriteTokens: written, costMicros: null, priceVersion: null };
  return {
    usage,
    estimated,
    cachedTokens: cached,
    cacheWriteTokens: written,
    costMicros: priceTokens(price, usage.prompt_tokens, cached, usage.completion_tokens, written, written1h),
    priceVersion: price.version,
  };
}

/**
 * Cost of a token split at a price: prompt tokens neither read from nor written to the cache at
 * the input price, cache reads at the cached price, cache writes at the write price of their
 * lifetime (1-hour writes are part of `written`), completion at output. Parts are clamped so
 * that no token is priced twice.
 */
export function priceTokens(
  price: ModelPrice,
  prompt: number,
  cached: number,
  completion: number,
  written = 0,
  written1h = 0,
): number {
  const read = Math.min(cached, prompt);
  const writes = Math.max(0, Math.min(written, prompt - read));
  const writes1h = Math.max(0, Math.min(written1h, writes));
  return costMicros([
    { tokens: Math.max(0, prompt - read - writes), microsPer1M: price.inputMicrosPer1M },
    { tokens: read, microsPer1M: price.cachedInputMicrosPer1M },
    { tokens: writes - writes1h, microsPer1M: price.cacheWriteMicrosPer1M },
    { tokens: writes1h, microsPer1M: price.cacheWrite1hMicrosPer1M },
    { tokens: completion, microsPer1M: price.outputMicrosPer1M },
  ]);
}

/**
 * The dearest prompt-cache write a request's hints (`cache_control`) can cause: `none`, `5m`
 * or `1h`. A hold made before the call assumes the whole prompt may be written at that price,
 * so a budget cannot be overrun by a cache write it did not reserve for.
 */
export function cacheWriteHint(req: ChatRequest): 'none' | '5m' | '1h' {
  let hint: 'none' | '5m' | '1h' = 'none';
  const see = (c: CacheControl | undefined): void => {
    if (c === undefined) return;
    hint = c.ttl === '1h' ? '1h' : hint === 'none' ? '5m' : hint;
  };
  for (const tool of req.tools ?? []) see(tool.cache_control);
  for (const m of req.messages) {
    if (m.role === 'tool') see(m.cache_control);
    if (Array.isArray(m.content)) for (const part of m.content) see(part.cache_control);
  }
  return hint;
}

/** Worst-case cost of an estimate, cache writes included when the request asks for them. */
export function priceEstimate(
  price: ModelPrice,
  prompt: number,
  completion: number,
  hint: 'none' | '5m' | '1h',
): number {
  return priceTokens(price, prompt, 0, completion, hint === 'none' ? 0 : prompt, hint === '1h' ? prompt : 0);
}
