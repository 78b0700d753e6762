/**
 * The one place that knows every provider adapter. Adapters are stateless translators, so
 * one instance per kind serves every request.
 */

import { createAnthropicAdapter } from './anthropic/index.ts';
import type { ProviderAdapter, ProviderKind } from './contract.ts';
import { createGeminiAdapter } from './gemini/index.ts';
import { createMistralAdapter } from './mistral/index.ts';
import { createOpenAiAdapter } from './openai/index.ts';

const ADAPTERS: Readonly<Record<ProviderKind, ProviderAdapter>> = Object.freeze({
  openai: createOpenAiAdapter('openai'),
  'openai-compatible': createOpenAiAdapter('openai-compatible'),
  anthropic: createAnthropicAdapter(),
  gemini: createGeminiAdapter(),
  mistral: createMistralAdapter(),
});

export function adapterFor(kind: ProviderKind): ProviderAdapter {
  const adapter = ADAPTERS[kind];
  if (!adapter) throw new Error(`no adapter for provider kind "${String(kind)}"`);
  return adapter;
}

export function allAdapters(): ReadonlyArray<ProviderAdapter> {
  return Object.values(ADAPTERS);
}
