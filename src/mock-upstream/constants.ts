/**
 * The emulator's default keys and path prefixes, on their own so that the demo's config can
 * name them without loading the emulator (start loads it only when it runs the demo).
 */
import type { MockProvider } from './core/types.ts';

export const DEFAULT_MOCK_KEYS: Readonly<Record<MockProvider, string>> = Object.freeze({
  openai: 'sk-mock-openai',
  'openai-compatible': 'sk-mock-compatible',
  anthropic: 'sk-ant-mock',
  gemini: 'mock-gemini-key',
  mistral: 'mock-mistral-key',
});

export const MOCK_PREFIXES: Readonly<Record<MockProvider, string>> = Object.freeze({
  openai: '/openai/v1',
  'openai-compatible': '/compat/v1',
  anthropic: '/anthropic/v1',
  gemini: '/gemini/v1beta',
  mistral: '/mistral/v1',
});
