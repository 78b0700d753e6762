import type { ProviderCapabilities } from '../contract.ts';

/** OpenAI honours everything the canonical format can express. */
export const OPENAI_CAPABILITIES: ProviderCapabilities = Object.freeze({
  streaming: true,
  tools: true,
  parallelToolCalls: true,
  jsonObject: true,
  jsonSchema: true,
  images: true,
  multipleChoices: true,
  seed: true,
  logprobs: true,
  logitBias: true,
  penalties: true,
  embeddings: true,
});

/**
 * What the gateway assumes of an "OpenAI-compatible" server (vLLM, Ollama, llama.cpp, LM Studio,
 * TGI …). The bar is what vLLM's OpenAI server documents, since it is the most common target and
 * implements n, seed, penalties, logprobs, logit_bias, tools and both JSON modes. Servers that lack
 * a feature answer 400, which reaches the client as `upstream.rejected_request` instead of a
 * silently ignored parameter. Images depend on the served model (a text model rejects them the
 * same way), and embeddings depend on the server exposing /embeddings.
 */
export const OPENAI_COMPATIBLE_CAPABILITIES: ProviderCapabilities = Object.freeze({
  streaming: true,
  tools: true,
  parallelToolCalls: true,
  jsonObject: true,
  jsonSchema: true,
  images: true,
  multipleChoices: true,
  seed: true,
  logprobs: true,
  logitBias: true,
  penalties: true,
  embeddings: true,
});
