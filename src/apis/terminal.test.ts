import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timeCallsInWorker } from '../core/testing/in-worker.ts';
import { parseJsonAnswer } from './terminal.ts';

test('prompt APIs: a JSON answer is read with or without a code fence around it', () => {
  for (const text of ['{"a":1}', ' {"a":1} ', '```json\n{"a":1}\n```', '```\n{"a":1}```', '```JSON {"a":1}   ```  '])
    assert.deepEqual(parseJsonAnswer(text), { ok: true, value: { a: 1 } }, JSON.stringify(text));
  for (const text of ['', '```', 'not json', '{"a":1} ``', '```json\n{"a":'])
    assert.deepEqual(parseJsonAnswer(text), { ok: false }, JSON.stringify(text));
});

test('prompt APIs: an answer with long runs of white space is read in linear time (regular-expression denial of service)', async () => {
  // A caller can ask the model for an answer padded with white space; a trailing-fence pattern
  // tried at every space of a run took time quadratic in it. The worker is stopped at 30 s.
  const run = ' '.repeat(400 * 1024);
  const texts = [`{${run}"a":1}`, `x${run}x`, `\`\`\`json${run}{}${run}\`\`\``, `{"a":"${'\n\t'.repeat(100 * 1024)}"`];
  const { total: took } = await timeCallsInWorker(
    new URL('./terminal.ts', import.meta.url).href,
    'm.parseJsonAnswer(text)',
    texts,
    30_000,
  );
  assert.ok(took < 2000, `took ${took.toFixed(0)} ms`);
});
