/**
 * The Google Gemini adapter (Gemini API, generativelanguage v1beta). The provider's base URL
 * is configured with the version prefix, e.g. https://generativelanguage.googleapis.com/v1beta.
 */
import type { ProviderAdapter } from '../contract.ts';
import { GEMINI_CAPABILITIES } from './capabilities.ts';
import { createEmbeddings } from './embeddings.ts';
import { classifyError } from './errors.ts';
import { authHeaders, chatRequest } from './request.ts';
import { chatResponse } from './response.ts';
import { createStreamTranslator } from './stream.ts';

export function createGeminiAdapter(): ProviderAdapter {
  const embeddings = createEmbeddings();
  return {
    kind: 'gemini',
    capabilities: GEMINI_CAPABILITIES,
    authHeaders,
    chatRequest,
    chatResponse,
    chatStream: createStreamTranslator,
    embeddingsRequest: embeddings.embeddingsRequest,
    embeddingsResponse: embeddings.embeddingsResponse,
    classifyError,
  };
}
