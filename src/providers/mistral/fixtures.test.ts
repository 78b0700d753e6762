import { runFixtureSuite } from '../openai/test-fixtures.ts';
import { createMistralAdapter } from './index.ts';

runFixtureSuite('mistral', createMistralAdapter(), import.meta.dirname);
