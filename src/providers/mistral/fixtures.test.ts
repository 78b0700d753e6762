import { createMistralAdapter } from './index.ts';
import { runFixtureSuite } from '../openai/test-fixtures.ts';

runFixtureSuite('mistral', createMistralAdapter(), import.meta.dirname);
