/**
 * Every wire sample in fixtures/ goes through the adapter here, so a fixture added later is
 * exercised even before a dedicated test is written for it. Samples named `*broken*` or
 * `*error*` must be refused; all others must translate into a well-formed canonical result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UpstreamProtocolError } from '../contract.ts';
import { createOpenAiAdapter } from './index.ts';
import { assertCanonicalStream, readJsonFixture, readSseFixture, runStream, testContext } from './test-fixtures.ts';

const dir = import.meta.dirname;
const files = readdirSync(join(dir, 'fixtures'));
const ctx = testContext({ publicModel: 'public-name' });
const mustFail = (name: string) => /broken|error-finish/.test(name);

for (const kind of ['openai', 'openai-compatible'] as const) {
  const adapter = createOpenAiAdapter(kind);
  for (const name of files.filter((f) => f.endsWith('.sse'))) {
    test(`${kind} fixture ${name}`, () => {
      const events = readSseFixture(dir, name);
      assert.ok(events.length > 0);
      const run = () => runStream(adapter.chatStream({ model: 'public-name', messages: [], stream: true }, ctx), events);
      if (mustFail(name)) return void assert.throws(run, UpstreamProtocolError);
      const chunks = run();
      assertCanonicalStream(chunks, 'public-name');
      assert.deepEqual(chunks.at(-1)?.choices, [], 'usage-only chunk closes the stream');
    });
  }
  for (const name of files.filter((f) => f.startsWith('chat-response-'))) {
    test(`${kind} fixture ${name}`, () => {
      const run = () => adapter.chatResponse(readJsonFixture(dir, name), ctx);
      if (mustFail(name)) return void assert.throws(run, UpstreamProtocolError);
      const res = run();
      assert.equal(res.model, 'public-name');
      assert.ok(res.choices.every((c) => c.finish_reason !== null));
    });
  }
}
