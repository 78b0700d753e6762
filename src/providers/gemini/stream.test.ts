import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatChunk, ChatRequest } from '../canonical.ts';
import { type SseEvent, UpstreamProtocolError } from '../contract.ts';
import { chatResponse } from './response.ts';
import { createStreamTranslator } from './stream.ts';
import { callContext, fixtureJson, fixtureText, parseSse } from './test-support.ts';

const ctx = callContext();
const req: ChatRequest = {
  model: 'gemini-flash',
  messages: [{ role: 'user', content: 'Tell me a story' }],
  stream: true,
};

function run(
  events: SseEvent[],
  request: ChatRequest = req,
): { chunks: ChatChunk[]; done: boolean; endChunks: ChatChunk[] } {
  const t = createStreamTranslator(request, ctx);
  const chunks = events.flatMap((e) => t.push(e));
  const done = t.done;
  return { chunks, done, endChunks: t.end() };
}

const data = (body: unknown): SseEvent => ({ event: undefined, data: JSON.stringify(body) });

describe('gemini stream translator', () => {
  it('translates the text stream fixture: role first, deltas, finish, then usage', () => {
    const events = parseSse(fixtureText('stream-text.sse'));
    assert.equal(events.length, 4);
    const { chunks, done, endChunks } = run(events);
    assert.equal(done, true);
    assert.deepEqual(endChunks, []);
    for (const c of chunks) {
      assert.equal(c.id, 'chatcmpl-req_01HZX3T6Q8');
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.model, 'gemini-flash');
    }
    assert.deepEqual(chunks[0]?.choices, [
      { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
    ]);
    const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
    assert.equal(
      text,
      'The robot, designated Unit 734, whirred softly as it polished the chrome counters of the empty diner.',
    );
    const finish = chunks.at(-2);
    assert.deepEqual(finish?.choices, [{ index: 0, delta: {}, finish_reason: 'stop' }]);
    const last = chunks.at(-1);
    assert.deepEqual(last?.choices, []);
    assert.deepEqual(last?.usage, { prompt_tokens: 10, completion_tokens: 22, total_tokens: 32 });
    assert.equal(chunks.filter((c) => c.usage !== undefined).length, 1);
  });

  it('is not done before the finishReason and end() reports a body that stopped early', () => {
    const events = parseSse(fixtureText('stream-text.sse')).slice(0, 3);
    const t = createStreamTranslator(req, ctx);
    for (const e of events) t.push(e);
    assert.equal(t.done, false);
    assert.throws(() => t.end(), UpstreamProtocolError);
    assert.throws(() => createStreamTranslator(req, ctx).end(), UpstreamProtocolError);
  });

  it('emits whole tool calls with the same ids the non-streamed response would use', () => {
    const { chunks, done } = run(parseSse(fixtureText('stream-function-call.sse')));
    assert.equal(done, true);
    const calls = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    assert.equal(calls.length, 2);
    assert.deepEqual(
      calls.map((c) => c.index),
      [0, 1],
    );
    assert.deepEqual(
      calls.map((c) => JSON.parse(c.function?.arguments ?? '')),
      [{ location: 'London' }, { location: 'Paris' }],
    );
    assert.ok(calls.every((c) => c.type === 'function' && c.function?.name === 'get_current_temperature'));
    const sameIds = chatResponse(fixtureJson('response-function-call.json'), ctx).choices[0]?.message.tool_calls?.[0]
      ?.id;
    assert.equal(calls[0]?.id, sameIds);
    assert.notEqual(calls[0]?.id, calls[1]?.id);
    const finish = chunks.flatMap((c) => c.choices).find((ch) => ch.finish_reason !== null);
    assert.equal(finish?.finish_reason, 'tool_calls');
    assert.deepEqual(chunks.at(-1)?.usage, { prompt_tokens: 61, completion_tokens: 81, total_tokens: 142 });
  });

  it('ends a blocked-prompt stream with content_filter', () => {
    const { chunks, done } = run(parseSse(fixtureText('stream-blocked-prompt.sse')));
    assert.equal(done, true);
    assert.deepEqual(
      chunks.map((c) => c.choices),
      [
        [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
        [{ index: 0, delta: {}, finish_reason: 'content_filter' }],
        [],
      ],
    );
    assert.deepEqual(chunks.at(-1)?.usage, { prompt_tokens: 7, completion_tokens: 0, total_tokens: 7 });
  });

  it('waits for every candidate when n > 1', () => {
    const t = createStreamTranslator({ ...req, n: 2 }, ctx);
    t.push(
      data({
        candidates: [{ content: { parts: [{ text: 'A' }] } }, { index: 1, content: { parts: [{ text: 'B' }] } }],
      }),
    );
    t.push(data({ candidates: [{ finishReason: 'STOP' }] }));
    assert.equal(t.done, false);
    const last = t.push(
      data({
        candidates: [{ index: 1, finishReason: 'MAX_TOKENS' }],
        usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 4, totalTokenCount: 7 },
      }),
    );
    assert.equal(t.done, true);
    assert.deepEqual(
      last.map((c) => c.choices),
      [[{ index: 1, delta: {}, finish_reason: 'length' }], []],
    );
  });

  it('still delivers usage that arrives after the finishReason', () => {
    const t = createStreamTranslator(req, ctx);
    t.push(data({ candidates: [{ content: { parts: [{ text: 'hi' }] }, finishReason: 'STOP' }] }));
    assert.equal(t.done, true);
    const late = t.push(data({ usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 1, totalTokenCount: 3 } }));
    assert.deepEqual(
      late.map((c) => c.usage),
      [{ prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 }],
    );
    assert.deepEqual(t.end(), []);
  });

  const broken: Array<[string, SseEvent]> = [
    ['data that is not JSON', { event: undefined, data: '{"candidates": [' }],
    ['an error object inside the stream', data({ error: { code: 500, message: 'secret detail', status: 'INTERNAL' } })],
    ['an unknown event type', { event: 'ping', data: '{}' }],
    ['a fragment of the wrong shape', data({ candidates: 'x' })],
  ];
  for (const [what, event] of broken) {
    it(`throws a protocol error on ${what}`, () => {
      const t = createStreamTranslator(req, ctx);
      assert.throws(
        () => t.push(event),
        (e: unknown) => e instanceof UpstreamProtocolError && !e.message.includes('secret detail'),
      );
    });
  }

  it('throws when a candidate continues after it finished', () => {
    const t = createStreamTranslator(req, ctx);
    t.push(data({ candidates: [{ content: { parts: [{ text: 'a' }] }, finishReason: 'STOP' }] }));
    assert.throws(
      () => t.push(data({ candidates: [{ content: { parts: [{ text: 'more' }] } }] })),
      UpstreamProtocolError,
    );
  });

  it('skips empty data lines', () => {
    assert.deepEqual(createStreamTranslator(req, ctx).push({ event: undefined, data: '' }), []);
  });
});
