import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson, frame, GENESIS_HASH, recordHash } from './canonical.ts';
import { prepareEntry } from './prepare-entry.ts';
import type { PreparedEntry } from './types.ts';

const E: PreparedEntry = {
  time: '2025-01-31T12:00:00.000Z',
  actorKind: 'api_key',
  actorId: 'key_1',
  actorTenant: 'default',
  action: 'model.call',
  target: 'gpt',
  decision: 'allowed',
  reason: null,
  requestId: 'req-1',
  metadata: '{"surface":"openai"}',
};

test('the record hash is stable (a change here breaks every existing audit file)', () => {
  assert.equal(recordHash(1, E, GENESIS_HASH), recordHash(1, { ...E }, GENESIS_HASH));
  // Computed independently (Python hashlib) from the documented framing: a tag byte, a 4-byte
  // big-endian length, UTF-8 bytes; 0x00 for null.
  assert.equal(recordHash(1, E, GENESIS_HASH), '327aa614ddb231ad0afe99f716243aab286c1b3944947c9a90c7aa741593bbc0');
});

test('every field, the seq and the previous hash are covered', () => {
  const base = recordHash(7, E, GENESIS_HASH);
  assert.notEqual(recordHash(8, E, GENESIS_HASH), base);
  assert.notEqual(recordHash(7, E, 'f'.repeat(64)), base);
  for (const [k, v] of Object.entries(E)) {
    const changed = { ...E, [k]: v === null ? 'x' : `${String(v)}x` } as PreparedEntry;
    assert.notEqual(recordHash(7, changed, GENESIS_HASH), base, k);
  }
});

test('framing is injective: shifted boundaries and null vs empty differ', () => {
  assert.notDeepEqual(frame(['ab', 'c']), frame(['a', 'bc']));
  assert.notDeepEqual(frame([null]), frame(['']));
  assert.notDeepEqual(frame(['1']), frame([1, null]));
  const moved = { ...E, actorId: 'key_1default', actorTenant: '' };
  assert.notEqual(recordHash(1, moved, GENESIS_HASH), recordHash(1, E, GENESIS_HASH));
});

/** The framing as first written (a buffer per part, then concat): the reference frame() must equal. */
function referenceFrame(fields: readonly (string | number | null)[]): Buffer {
  const parts: Buffer[] = [];
  for (const field of fields) {
    if (field === null) {
      parts.push(Buffer.of(0));
      continue;
    }
    const bytes = Buffer.from(typeof field === 'number' ? String(field) : field, 'utf8');
    const head = Buffer.alloc(5);
    head[0] = 1;
    head.writeUInt32BE(bytes.length, 1);
    parts.push(head, bytes);
  }
  return Buffer.concat(parts);
}

test('frame() writes exactly the reference bytes, for any text (multi-byte, lone surrogates, NUL) and numbers', () => {
  const units = ['a', 'Z', '0', ' ', '\0', '"', 'é', '€', '中', '😀', '\ud800', '\udfff', '\n', '\u2028'];
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < 2000; i++) {
    const fields: (string | number | null)[] = [];
    for (let f = rand(14); f >= 0; f--) {
      const kind = rand(5);
      if (kind === 0) fields.push(null);
      else if (kind === 1) fields.push(rand(2) === 0 ? rand(1_000_000) : -rand(100) / 7);
      else {
        let text = '';
        for (let n = rand(kind === 4 ? 600 : 12); n > 0; n--) text += units[rand(units.length)];
        fields.push(text);
      }
    }
    assert.deepEqual(frame(fields), referenceFrame(fields), JSON.stringify(fields));
  }
  assert.deepEqual(frame([]), Buffer.alloc(0));
});

test('metadata is canonical JSON: key order does not change the hash', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null } }), '{"a":{"c":null,"d":[1,"x"]},"b":1}');
  const at = new Date('2025-01-31T12:00:00.000Z');
  const one = prepareEntry(
    {
      actor: { kind: 'cli', id: 'op', tenant: null },
      action: 'key.create',
      target: 'k',
      decision: 'allowed',
      reason: null,
      requestId: null,
      metadata: { z: 1, a: 'b' },
    },
    at,
  );
  const two = prepareEntry(
    {
      actor: { kind: 'cli', id: 'op', tenant: null },
      action: 'key.create',
      target: 'k',
      decision: 'allowed',
      reason: null,
      requestId: null,
      metadata: { a: 'b', z: 1 },
    },
    at,
  );
  assert.equal(one.metadata, two.metadata);
});

test('entries outside the record limits are refused, not trimmed', () => {
  const ok = {
    actor: { kind: 'cli', id: null, tenant: null },
    action: 'key.create',
    target: null,
    decision: 'allowed',
    reason: null,
    requestId: null,
  } as const;
  assert.throws(() => prepareEntry({ ...ok, action: 'Model Call' }), /action/);
  assert.throws(() => prepareEntry({ ...ok, decision: 'maybe' as 'allowed' }), /decision/);
  assert.throws(() => prepareEntry({ ...ok, target: 'x'.repeat(257) }), /target/);
  assert.throws(() => prepareEntry({ ...ok, metadata: { big: 'x'.repeat(3000) } }), /metadata/);
  assert.throws(() => prepareEntry({ ...ok, metadata: { nested: { a: 1 } as unknown as string } }), /metadata\.nested/);
  assert.throws(() => prepareEntry({ ...ok, time: 'yesterday' }), /time/);
});
