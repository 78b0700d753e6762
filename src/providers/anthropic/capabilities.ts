import type { ProviderCapabilities } from '../contract.ts';

/**
 * What the Anthropic Messages API can honour. JSON output (object and schema) is provided by
 * the adapter through a forced tool call (see json-mode.ts), not natively.
 */
export const ANTHROPIC_CAPABILITIES: ProviderCapabilities = Object.freeze({
  streaming: true,
  tools: true,
  parallelToolCalls: true,
  jsonObject: true,
  jsonSchema: true,
  images: true,
  multipleChoices: false,
  seed: false,
  logprobs: false,
  logitBias: false,
  penalties: false,
  embeddings: false,
});
