/**
 * Test support: reads wire samples from a `fixtures/` folder. `.sse` files are split into events
 * the way an SSE parser would (blank-line separated, `data:` lines joined, comments dropped),
 * so a fixture can be copied from a real stream as it appeared on the wire.
 */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ChatChunk } from '../canonical.ts';
import {
  type AdapterCallContext,
  type ProviderAdapter,
  type SseEvent,
  type StreamTranslator,
  UpstreamProtocolError,
} from '../contract.ts';

export function readJsonFixture<T = unknown>(dir: string, name: string): T {
  return JSON.parse(readFileSync(join(dir, 'fixtures', name), 'utf8')) as T;
}

export function parseSseText(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.replace(/\r\n/g, '\n').split(/\n\n+/)) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return events;
}

export function readSseFixture(dir: string, name: string): SseEvent[] {
  return parseSseText(readFileSync(join(dir, 'fixtures', name), 'utf8'));
}

/** Feeds every event, then ends the stream; returns all chunks produced. */
export function runStream(translator: StreamTranslator, events: readonly SseEvent[]): ChatChunk[] {
  const out: ChatChunk[] = [];
  for (const e of events) out.push(...translator.push(e));
  out.push(...translator.end());
  return out;
}

export function testContext(overrides: Partial<AdapterCallContext> = {}): AdapterCallContext {
  return {
    upstreamModel: 'upstream-model-id',
    publicModel: 'public-model',
    credential: 'sk-test-credential',
    requestId: 'req01TEST',
    created: 1700000000,
    ...overrides,
  };
}

/** Concatenates streamed tool-call fragments per (choice, index) the way a client SDK would. */
export function assembleToolCalls(
  chunks: readonly ChatChunk[],
): Map<string, { id: string | undefined; name: string; arguments: string }> {
  const calls = new Map<string, { id: string | undefined; name: string; arguments: string }>();
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      for (const tc of choice.delta.tool_calls ?? []) {
        const key = `${choice.index}:${tc.index}`;
        const call = calls.get(key) ?? { id: undefined, name: '', arguments: '' };
        if (tc.id !== undefined) call.id = tc.id;
        call.name += tc.function?.name ?? '';
        call.arguments += tc.function?.arguments ?? '';
        calls.set(key, call);
      }
    }
  }
  return calls;
}

/**
 * What the contract promises of every complete canonical stream: one public model name, a
 * finish_reason for every choice that appeared, at most one usage chunk and, if any, it is last
 * with no choices; every tool call opens with an id and a function name.
 */
export function assertCanonicalStream(chunks: readonly ChatChunk[], publicModel: string): void {
  const seen = new Set<number>();
  const finished = new Set<number>();
  const opened = new Set<string>();
  chunks.forEach((chunk, i) => {
    if (chunk.model !== publicModel) throw new Error(`chunk ${i}: model ${chunk.model}`);
    if (chunk.usage !== undefined && chunk.usage !== null) {
      if (i !== chunks.length - 1 || chunk.choices.length !== 0)
        throw new Error(`chunk ${i}: usage not on a final choice-less chunk`);
    }
    for (const choice of chunk.choices) {
      seen.add(choice.index);
      if (choice.finish_reason !== null) finished.add(choice.index);
      for (const tc of choice.delta.tool_calls ?? []) {
        const key = `${choice.index}:${tc.index}`;
        if (!opened.has(key)) {
          if (tc.id === undefined || tc.function?.name === undefined)
            throw new Error(`chunk ${i}: tool call ${key} opened without id and name`);
          opened.add(key);
        }
      }
    }
  });
  for (const index of seen) if (!finished.has(index)) throw new Error(`choice ${index} never finished`);
}

/**
 * Runs every wire sample in `<dir>/fixtures` through an OpenAI-shaped adapter (OpenAI,
 * OpenAI-compatible, Mistral), so a fixture added later is exercised even before a dedicated
 * test is written for it. Samples named `*broken*` or `*error-finish*` must be refused; all
 * others must translate into a well-formed canonical result.
 */
export function runFixtureSuite(label: string, adapter: ProviderAdapter, dir: string): void {
  const files = readdirSync(join(dir, 'fixtures'));
  const ctx = testContext({ publicModel: 'public-name' });
  const mustFail = (name: string) => /broken|error-finish/.test(name);
  for (const name of files.filter((f) => f.endsWith('.sse'))) {
    test(`${label} fixture ${name}`, () => {
      const events = readSseFixture(dir, name);
      assert.ok(events.length > 0);
      const run = () =>
        runStream(adapter.chatStream({ model: 'public-name', messages: [], stream: true }, ctx), events);
      if (mustFail(name)) return void assert.throws(run, UpstreamProtocolError);
      const chunks = run();
      assertCanonicalStream(chunks, 'public-name');
      assert.deepEqual(chunks.at(-1)?.choices, [], 'usage-only chunk closes the stream');
    });
  }
  for (const name of files.filter((f) => f.startsWith('chat-response-'))) {
    test(`${label} fixture ${name}`, () => {
      const run = () => adapter.chatResponse(readJsonFixture(dir, name), ctx);
      if (mustFail(name)) return void assert.throws(run, UpstreamProtocolError);
      const res = run();
      assert.equal(res.model, 'public-name');
      assert.ok(res.choices.every((c) => c.finish_reason !== null));
    });
  }
}
