/**
 * Built-in list prices, USD per 1M tokens, per provider kind and upstream model: defaults so
 * that cost is metered out of the box. They are the providers' published standard (non-batch,
 * short-context) prices as of the effective date below; operators should override them with
 * `pricing:` in the config for their negotiated rates and whenever a provider changes a price.
 * `cached` is the price of prompt tokens read from the provider's cache (omitted: the input price).
 * Prompt-cache writes are priced by provider kind (src/cost/price-table.ts): Anthropic charges
 * 1.25x the input price for a 5-minute write and 2x for a 1-hour write; others charge nothing extra.
 */
import type { ProviderKind } from '../providers/contract.ts';

export const BUILTIN_PRICE_VERSION = 'builtin-2026-12-01';
export const BUILTIN_EFFECTIVE_DATE = '2026-12-01';

export interface BuiltinPrice {
  readonly input: number;
  readonly output: number;
  readonly cached?: number;
}

export const BUILTIN_PRICES: Readonly<Record<ProviderKind, Readonly<Record<string, BuiltinPrice>>>> = {
  openai: {
    'gpt-5': { input: 1.25, output: 10, cached: 0.125 },
    'gpt-5-mini': { input: 0.25, output: 2, cached: 0.025 },
    'gpt-5-nano': { input: 0.05, output: 0.4, cached: 0.005 },
    'gpt-4.1': { input: 2, output: 8, cached: 0.5 },
    'gpt-4.1-mini': { input: 0.4, output: 1.6, cached: 0.1 },
    'gpt-4.1-nano': { input: 0.1, output: 0.4, cached: 0.025 },
    'gpt-4o': { input: 2.5, output: 10, cached: 1.25 },
    'gpt-4o-mini': { input: 0.15, output: 0.6, cached: 0.075 },
    o3: { input: 2, output: 8, cached: 0.5 },
    'o4-mini': { input: 1.1, output: 4.4, cached: 0.275 },
    'text-embedding-3-small': { input: 0.02, output: 0 },
    'text-embedding-3-large': { input: 0.13, output: 0 },
  },
  anthropic: {
    'claude-opus-4-1': { input: 15, output: 75, cached: 1.5 },
    'claude-opus-4-5': { input: 5, output: 25, cached: 0.5 },
    'claude-opus-4-6': { input: 5, output: 25, cached: 0.5 },
    'claude-sonnet-4-6': { input: 3, output: 15, cached: 0.3 },
    'claude-sonnet-4-5': { input: 3, output: 15, cached: 0.3 },
    'claude-sonnet-4-0': { input: 3, output: 15, cached: 0.3 },
    'claude-sonnet-4': { input: 3, output: 15, cached: 0.3 },
    'claude-haiku-4-5': { input: 1, output: 5, cached: 0.1 },
    'claude-3-5-haiku': { input: 0.8, output: 4, cached: 0.08 },
  },
  gemini: {
    // Prompts up to 200K tokens (2.5 Pro charges more above); thinking tokens are billed as output.
    'gemini-2.5-pro': { input: 1.25, output: 10, cached: 0.31 },
    'gemini-2.5-flash': { input: 0.3, output: 2.5, cached: 0.075 },
    'gemini-2.5-flash-lite': { input: 0.1, output: 0.4, cached: 0.025 },
    'gemini-embedding-001': { input: 0.15, output: 0 },
  },
  mistral: {
    'mistral-large-latest': { input: 2, output: 6 },
    'mistral-medium-latest': { input: 0.4, output: 2 },
    'mistral-small-latest': { input: 0.1, output: 0.3 },
    'codestral-latest': { input: 0.3, output: 0.9 },
    'mistral-embed': { input: 0.1, output: 0 },
  },
  // Self-hosted or third-party servers: no list price exists; this default matches the emulator's
  // model (a typical hosted price for an 8B model). Configure `pricing:` for real deployments.
  'openai-compatible': {
    'meta-llama/Llama-3.1-8B-Instruct': { input: 0.18, output: 0.18 },
  },
};
