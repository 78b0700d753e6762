import type { ProviderCapabilities, ProviderKind } from '../contract.ts';
import { OPENAI_CAPABILITIES, OPENAI_COMPATIBLE_CAPABILITIES } from './capabilities.ts';

export { createOpenAiAdapter, type OpenAiAdapterKind } from './adapter.ts';
export { OPENAI_CAPABILITIES, OPENAI_COMPATIBLE_CAPABILITIES } from './capabilities.ts';

/** Per provider kind served by this folder; read by the provider table in docs/providers.md. */
export const capabilities: Readonly<Partial<Record<ProviderKind, ProviderCapabilities>>> = Object.freeze({
  openai: OPENAI_CAPABILITIES,
  'openai-compatible': OPENAI_COMPATIBLE_CAPABILITIES,
});
