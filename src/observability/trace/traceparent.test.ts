import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  childTraceparent,
  formatTraceparent,
  newSpanId,
  newTraceId,
  parseTraceparent,
  startRequestTrace,
} from './traceparent.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${PARENT}-01`;

test('a valid version-00 header is parsed', () => {
  assert.deepEqual(parseTraceparent(VALID), { version: '00', traceId: TRACE, parentId: PARENT, flags: 1 });
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${PARENT}-00`)?.flags, 0);
});

test('surrounding spaces and tabs (HTTP optional whitespace) are tolerated', () => {
  assert.equal(parseTraceparent(` \t${VALID}\t `)?.traceId, TRACE);
});

const invalid: Array<[string, string | string[] | undefined]> = [
  ['absent', undefined],
  ['empty', ''],
  ['repeated header (array)', [VALID, VALID]],
  ['repeated header joined by Node', `${VALID}, ${VALID}`],
  ['all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
  ['all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
  ['uppercase trace id', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
  ['uppercase parent id', `00-${TRACE}-${PARENT.toUpperCase()}-01`],
  ['uppercase flags', `00-${TRACE}-${PARENT}-0A`],
  ['uppercase version', `0A-${TRACE}-${PARENT}-01`],
  ['trace id too short', `00-${TRACE.slice(1)}-${PARENT}-01`],
  ['trace id too long', `00-${TRACE}0-${PARENT}-01`],
  ['parent id too short', `00-${TRACE}-${PARENT.slice(1)}-01`],
  ['parent id too long', `00-${TRACE}-${PARENT}0-01`],
  ['flags one digit', `00-${TRACE}-${PARENT}-1`],
  ['flags three digits', `00-${TRACE}-${PARENT}-001`],
  ['version 00 with trailing data', `${VALID}-extra`],
  ['version ff is forbidden', `ff-${TRACE}-${PARENT}-01`],
  ['non-hex version', `zz-${TRACE}-${PARENT}-01`],
  ['non-hex in trace id', `00-${TRACE.slice(0, 31)}g-${PARENT}-01`],
  ['wrong separator', `00_${TRACE}-${PARENT}-01`],
  ['missing fields', `00-${TRACE}`],
  ['higher version, trailing data not after a dash', `01-${TRACE}-${PARENT}-01x`],
  ['higher version, too short', `01-${TRACE}-${PARENT}-1`],
];
for (const [name, header] of invalid) {
  test(`invalid: ${name}`, () => assert.equal(parseTraceparent(header), undefined));
}

test('a higher version is parsed for its version-00 fields, with or without more fields after a dash', () => {
  assert.deepEqual(parseTraceparent(`cc-${TRACE}-${PARENT}-01`), {
    version: 'cc',
    traceId: TRACE,
    parentId: PARENT,
    flags: 1,
  });
  assert.equal(parseTraceparent(`cc-${TRACE}-${PARENT}-01-what-the-future-holds`)?.traceId, TRACE);
});

test('generated ids are lowercase hex of the right length and distinct', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const t = newTraceId();
    const s = newSpanId();
    assert.match(t, /^[0-9a-f]{32}$/);
    assert.match(s, /^[0-9a-f]{16}$/);
    ids.add(t);
  }
  assert.equal(ids.size, 100);
});

test('a request continues a valid incoming trace with a new span of its own', () => {
  const t = startRequestTrace(VALID);
  assert.equal(t.traceId, TRACE);
  assert.equal(t.parentId, PARENT);
  assert.notEqual(t.spanId, PARENT);
  assert.equal(t.flags, 1);
});

test('unknown flag bits are not propagated; sampled is', () => {
  assert.equal(startRequestTrace(`00-${TRACE}-${PARENT}-ff`).flags, 1);
  assert.equal(startRequestTrace(`00-${TRACE}-${PARENT}-fe`).flags, 0);
});

test('an invalid incoming header starts a new, unsampled trace', () => {
  const t = startRequestTrace(`00-${'0'.repeat(32)}-${PARENT}-01`);
  assert.notEqual(t.traceId, '0'.repeat(32));
  assert.match(t.traceId, /^[0-9a-f]{32}$/);
  assert.equal(t.parentId, undefined);
  assert.equal(t.flags, 0);
});

test('outgoing headers are valid version 00 with the same trace id and a new parent id each time', () => {
  const trace = { traceId: TRACE, flags: 1 };
  const a = parseTraceparent(childTraceparent(trace));
  const b = parseTraceparent(childTraceparent(trace));
  assert.equal(a?.version, '00');
  assert.equal(a?.traceId, TRACE);
  assert.equal(b?.traceId, TRACE);
  assert.notEqual(a?.parentId, b?.parentId);
  assert.equal(a?.flags, 1);
  assert.equal(formatTraceparent(TRACE, PARENT, 0), `00-${TRACE}-${PARENT}-00`);
});
