import type { ProviderCapabilities } from '../contract.ts';

/**
 * What the Gemini API honours through this adapter. Logprobs are off: Gemini's
 * responseLogprobs/logprobsResult has a different shape from OpenAI's and is not translated.
 * Gemini has no logit bias at all, and no switch to turn parallel function calls off, so
 * `parallel_tool_calls: false` is refused (or dropped) by the route stage.
 */
export const GEMINI_CAPABILITIES: ProviderCapabilities = Object.freeze({
  streaming: true,
  tools: true,
  parallelToolCalls: false,
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
