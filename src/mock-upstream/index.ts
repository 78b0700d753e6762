/**
 * The provider emulator used by tests, benchmarks and the demo: one HTTP server that speaks
 * the real wire formats of OpenAI, any OpenAI-compatible server, Anthropic, Gemini and
 * Mistral, with deterministic answers and injectable faults.
 */
export { startMockUpstream, DEFAULT_MOCK_KEYS, MOCK_PREFIXES, type MockUpstream } from './server.ts';
export { MOCK_PROVIDERS, type MockProvider, type MockUpstreamOptions, type MockFault, type RecordedRequest } from './core/types.ts';
export { countTokens, splitIntoPieces, MESSAGE_OVERHEAD_TOKENS } from './core/tokenizer.ts';
export { embedText, DEFAULT_EMBEDDING_DIMENSIONS } from './core/embedding.ts';
export { TOOL_MARKER, PARALLEL_MARKER } from './core/answer.ts';
