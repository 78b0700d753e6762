/** The Anthropic Messages API adapter (https://api.anthropic.com/v1, API version 2023-06-01). */
import type { ProviderAdapter } from '../contract.ts';
import { ANTHROPIC_CAPABILITIES } from './capabilities.ts';
import { classifyAnthropicError } from './errors.ts';
import { buildChatRequest } from './request.ts';
import { parseChatResponse } from './response.ts';
import { createAnthropicStreamTranslator } from './stream.ts';

export { JSON_RESPONSE_TOOL } from './json-mode.ts';
export { DEFAULT_MAX_TOKENS } from './request.ts';

export function createAnthropicAdapter(): ProviderAdapter {
  return {
    kind: 'anthropic',
    capabilities: ANTHROPIC_CAPABILITIES,
    authHeaders(credential): Record<string, string> {
      return credential === undefined ? {} : { 'x-api-key': credential };
    },
    chatRequest: buildChatRequest,
    chatResponse: parseChatResponse,
    chatStream: (_req, ctx) => createAnthropicStreamTranslator(ctx),
    classifyError: classifyAnthropicError,
  };
}
