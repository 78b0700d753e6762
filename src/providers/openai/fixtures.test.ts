import { createOpenAiAdapter } from './index.ts';
import { runFixtureSuite } from './test-fixtures.ts';

for (const kind of ['openai', 'openai-compatible'] as const)
  runFixtureSuite(kind, createOpenAiAdapter(kind), import.meta.dirname);
