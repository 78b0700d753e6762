import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { type CryptoErrorReason, isCryptoError } from './crypto-error.ts';
import { createDataKeys } from './data-keys.ts';
import { createEnvelope } from './envelope.ts';
import {
  DEK_ID_BYTES,
  FORMAT_VERSION,
  HEADER_BYTES,
  IV_BYTES,
  MIN_CIPHERTEXT_BYTES,
  TAG_BYTES,
} from './envelope-format.ts';
import { cell, harness, randomKek } from './test-fixtures.ts';

const reason = (r: CryptoErrorReason) => (e: unknown) => isCryptoError(e, r);

describe('envelope: round trip and format', () => {
  it('decrypts what it encrypted: text, bytes, empty and large values', async () => {
    const { envelope } = harness();
    for (const value of ['sk-live-0123456789', '', 'ünïcødé ✓', randomBytes(1 << 20)]) {
      const ct = await envelope.encrypt(cell('r1'), value);
      const pt = await envelope.decrypt(cell('r1'), ct);
      assert.deepEqual(pt, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
    }
  });

  it('writes version | data-key id | binding check | 12-byte IV | ciphertext | 16-byte tag', async () => {
    const { envelope, dataKeys } = harness();
    const ct = await envelope.encrypt(cell('r1'), 'abc');
    assert.equal(ct[0], FORMAT_VERSION);
    assert.equal(ct.length, MIN_CIPHERTEXT_BYTES + 3);
    assert.equal(ct.subarray(1, 1 + DEK_ID_BYTES).toString('hex'), await dataKeys.currentKeyId('t1'));
    assert.equal(envelope.dataKeyIdOf(ct), await dataKeys.currentKeyId('t1'));
    assert.equal(ct.length - HEADER_BYTES - IV_BYTES - TAG_BYTES, 3);
    assert.equal(ct.indexOf('abc'), -1);
  });

  it('uses a fresh random IV every time: 10,000 encryptions of one value, no IV or ciphertext repeats', async () => {
    const { envelope } = harness();
    const ivs = new Set<string>();
    const cts = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const ct = await envelope.encrypt(cell('r1'), 'same value');
      ivs.add(ct.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES).toString('hex'));
      cts.add(ct.toString('hex'));
    }
    assert.equal(ivs.size, 10_000);
    assert.equal(cts.size, 10_000);
  });

  it('gives each tenant its own data key', async () => {
    const { envelope } = harness();
    const a = await envelope.encrypt(cell('r1', 'tenant-a'), 'x');
    const b = await envelope.encrypt(cell('r1', 'tenant-b'), 'x');
    assert.notEqual(envelope.dataKeyIdOf(a), envelope.dataKeyIdOf(b));
  });

  it('accepts a Uint8Array view into a larger buffer as ciphertext', async () => {
    const { envelope } = harness();
    const ct = await envelope.encrypt(cell('r1'), 'inside');
    const big = Buffer.concat([Buffer.from('prefix'), ct, Buffer.from('suffix')]);
    const view = new Uint8Array(big.buffer, big.byteOffset + 6, ct.length);
    assert.equal((await envelope.decrypt(cell('r1'), view)).toString(), 'inside');
  });
});

describe('envelope: a ciphertext is bound to its place', () => {
  const moves: Array<[string, ReturnType<typeof cell>]> = [
    ['another row', cell('r2')],
    ['another table', cell('r1', 't1', 'webhooks')],
    ['another column', cell('r1', 't1', 'provider_credentials', 'client_secret')],
    ['no column', cell('r1', 't1', 'provider_credentials', null)],
    ['another tenant', cell('r1', 't2')],
  ];
  for (const [name, to] of moves) {
    it(`fails with wrong_binding when moved to ${name}`, async () => {
      const { envelope } = harness();
      await envelope.encrypt(cell('r9', 't2'), 'tenant two has a key too');
      const ct = await envelope.encrypt(cell('r1'), 'secret-value');
      await assert.rejects(envelope.decrypt(to, ct), reason('wrong_binding'));
    });
  }

  it('fields cannot be shifted into each other (length-prefixed encoding)', async () => {
    const { envelope } = harness();
    const ct = await envelope.encrypt({ tenant: 't1', table: 'ab', row: 'c' }, 'v');
    await assert.rejects(envelope.decrypt({ tenant: 't1', table: 'a', row: 'bc' }, ct), reason('wrong_binding'));
  });

  it('refuses malformed bindings as programming errors', async () => {
    const { envelope } = harness();
    for (const bad of [
      { table: '', row: 'r', tenant: 't' },
      { table: 't', row: 'r' },
      { table: 't', row: 'r', tenant: 't', column: '' },
    ]) {
      await assert.rejects(envelope.encrypt(bad as never, 'x'), TypeError);
    }
  });
});

describe('envelope: wrong or missing keys', () => {
  it('with the wrong KEK, names both KEK ids before trying to unwrap', async () => {
    const h = harness();
    const ct = await h.envelope.encrypt(cell('r1'), 'v');
    const other = randomKek();
    let unwrapCalls = 0;
    const spy = {
      id: other.id,
      wrap: other.wrap,
      unwrap: (w: Buffer, a: Buffer) => {
        unwrapCalls++;
        return other.unwrap(w, a);
      },
    };
    const wrong = createEnvelope({ dataKeys: createDataKeys({ repository: h.repo, kek: spy }) });
    await assert.rejects(wrong.decrypt(cell('r1'), ct), (e) => {
      assert.ok(isCryptoError(e, 'wrong_kek'));
      assert.match(e.message, new RegExp(`wrapped by KEK ${h.kek.id}, the configured KEK is ${other.id}`));
      return true;
    });
    assert.equal(unwrapCalls, 0);
    await assert.rejects(createDataKeys({ repository: h.repo, kek: other }).verifyKeks(), (e) => {
      assert.ok(isCryptoError(e, 'wrong_kek'));
      assert.match(
        e.message,
        new RegExp(`^data keys were wrapped by KEK ${h.kek.id}, the configured KEK is ${other.id}`),
      );
      return true;
    });
  });

  it('a wrapped key swapped onto another key record does not unwrap (tampered)', async () => {
    const h = harness({ cache: { ttlMs: 0 } });
    const ct = await h.envelope.encrypt(cell('r1', 'a'), 'v');
    await h.envelope.encrypt(cell('r1', 'b'), 'v');
    const a = (await h.repo.getCurrent('a'))!;
    const b = (await h.repo.getCurrent('b'))!;
    await h.repo.replaceWrapping(a.id, a.kekId, a.kekId, b.wrapped);
    await assert.rejects(h.envelope.decrypt(cell('r1', 'a'), ct), reason('tampered'));
  });

  it('an unknown data-key id is unknown_key', async () => {
    const a = harness();
    const ct = await a.envelope.encrypt(cell('r1'), 'v');
    await assert.rejects(harness().envelope.decrypt(cell('r1'), ct), reason('unknown_key'));
  });

  it('never falls back to plaintext: a stored plaintext value is refused, not returned', async () => {
    const { envelope } = harness();
    for (const raw of ['sk-plain-credential', '{"v":1}', '\u0001short']) {
      await assert.rejects(envelope.decrypt(cell('r1'), Buffer.from(raw)), reason('bad_format'));
    }
    await assert.rejects(envelope.decrypt(cell('r1'), 'a string' as never), reason('bad_format'));
  });
});
