/**
 * The provider emulator used by tests, benchmarks and the demo: one HTTP server that speaks
 * the real wire formats of OpenAI, any OpenAI-compatible server, Anthropic, Gemini and
 * Mistral, with deterministic answers and injectable faults.
 */

export { PARALLEL_MARKER, TOOL_MARKER } from './core/answer.ts';
export { DEFAULT_EMBEDDING_DIMENSIONS, embedText } from './core/embedding.ts';
export { countTokens, MESSAGE_OVERHEAD_TOKENS, splitIntoPieces } from './core/tokenizer.ts';
export {
  MOCK_PROVIDERS,
  type MockFault,
  type MockProvider,
  type MockUpstreamOptions,
  type RecordedRequest,
} from './core/types.ts';
export { DEFAULT_MOCK_KEYS, MOCK_PREFIXES, type MockUpstream, startMockUpstream } from './server.ts';
