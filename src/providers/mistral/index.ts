import type { ProviderCapabilities, ProviderKind } from '../contract.ts';
import { MISTRAL_CAPABILITIES } from './capabilities.ts';

export { createMistralAdapter } from './adapter.ts';
export { MISTRAL_CAPABILITIES } from './capabilities.ts';

/** Per provider kind served by this folder; read by the provider table in docs/providers.md. */
export const capabilities: Readonly<Partial<Record<ProviderKind, ProviderCapabilities>>> = Object.freeze({
  mistral: MISTRAL_CAPABILITIES,
});
