import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type SseEvent, UpstreamProtocolError } from '../providers/contract.ts';
import { createSseParser } from './sse-parser.ts';

function parseAll(chunks: Array<string | Buffer>, max?: number): SseEvent[] {
  const p = createSseParser(max);
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...p.push(typeof c === 'string' ? Buffer.from(c) : c));
  out.push(...p.end());
  return out;
}

/** Every way of cutting the input into two network chunks gives the same events. */
function assertAllSplits(input: string, expected: SseEvent[]): void {
  const bytes = Buffer.from(input);
  for (let i = 0; i <= bytes.length; i++) {
    assert.deepEqual(parseAll([bytes.subarray(0, i), bytes.subarray(i)]), expected, `split at byte ${i}`);
  }
}

test('LF, CRLF and CR line endings give the same events', () => {
  const expected = [
    { event: undefined, data: 'a' },
    { event: 'x', data: 'b' },
  ];
  for (const nl of ['\n', '\r\n', '\r']) {
    assertAllSplits(`data: a${nl}${nl}event: x${nl}data: b${nl}${nl}`, expected);
  }
});

test('a CR at the end of one chunk and LF at the start of the next is one line break', () => {
  assert.deepEqual(parseAll(['data: a\r', '\n\r', '\ndata: b\r\n\r\n']), [
    { event: undefined, data: 'a' },
    { event: undefined, data: 'b' },
  ]);
});

test('multi-line data is joined with newlines; one leading space is stripped', () => {
  assertAllSplits('data: line1\ndata:line2\ndata:  indented\n\n', [
    { event: undefined, data: 'line1\nline2\n indented' },
  ]);
});

test('comments, id and retry fields are ignored; an event with no data is not dispatched', () => {
  assert.deepEqual(parseAll([': keep-alive\n\nid: 7\nretry: 10\nevent: ping\n\ndata: x\n\n']), [
    { event: undefined, data: 'x' },
  ]);
});

test('a field with no colon has an empty value; an empty data line is an event with empty data', () => {
  assert.deepEqual(parseAll(['data\n\n']), [{ event: undefined, data: '' }]);
});

test('a UTF-8 character split across network chunks stays intact', () => {
  assertAllSplits('data: héllo €𝄞\n\n', [{ event: undefined, data: 'héllo €𝄞' }]);
});

test('a final event without the trailing blank line is delivered at the end', () => {
  assert.deepEqual(parseAll(['data: [DONE]']), [{ event: undefined, data: '[DONE]' }]);
  assert.deepEqual(parseAll(['data: last\n']), [{ event: undefined, data: 'last' }]);
});

test('a leading byte-order mark is ignored', () => {
  assert.deepEqual(parseAll(['\uFEFFdata: x\n\n']), [{ event: undefined, data: 'x' }]);
});

test('the event type resets after each event', () => {
  assert.deepEqual(parseAll(['event: a\ndata: 1\n\ndata: 2\n\n']), [
    { event: 'a', data: '1' },
    { event: undefined, data: '2' },
  ]);
});

test('an event larger than the limit is a protocol error, even when it arrives in small chunks without a newline', () => {
  const p = createSseParser(1024);
  assert.throws(() => {
    for (let i = 0; i < 100; i++) p.push(Buffer.from(`data: ${'x'.repeat(50)}`));
  }, UpstreamProtocolError);
  const q = createSseParser(1024);
  assert.throws(() => {
    for (let i = 0; i < 100; i++) q.push(Buffer.from(`data: ${'y'.repeat(50)}\n`));
  }, UpstreamProtocolError);
});

test('many events under the limit are fine: the limit is per event', () => {
  const p = createSseParser(1024);
  let count = 0;
  for (let i = 0; i < 100; i++) count += p.push(Buffer.from(`data: ${'z'.repeat(500)}\n\n`)).length;
  assert.equal(count, 100);
});

test('the default limit is 1 MiB', () => {
  const big = `data: ${'a'.repeat(1024 * 1024)}\n\n`;
  assert.throws(() => createSseParser().push(Buffer.from(big)), UpstreamProtocolError);
  const fits = `data: ${'a'.repeat(1000 * 1000)}\n\n`;
  assert.equal(createSseParser().push(Buffer.from(fits)).length, 1);
});
