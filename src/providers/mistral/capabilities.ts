import type { ProviderCapabilities } from '../contract.ts';

/**
 * Per Mistral's chat completions reference: `n`, `random_seed`, presence/frequency penalties,
 * `parallel_tool_calls`, `tool_choice`, `response_format` (json_object and json_schema) and image
 * chunks on vision models are documented; there is no `logprobs` and no `logit_bias`, and the
 * API rejects unknown fields with 422 rather than ignoring them.
 */
export const MISTRAL_CAPABILITIES: ProviderCapabilities = Object.freeze({
  streaming: true,
  tools: true,
  parallelToolCalls: true,
  jsonObject: true,
  jsonSchema: true,
  images: true,
  multipleChoices: true,
  seed: true,
  logprobs: false,
  logitBias: false,
  penalties: true,
  embeddings: true,
});
