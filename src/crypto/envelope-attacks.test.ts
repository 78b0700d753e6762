/**
 * Attacks on stored ciphertexts: truncation at every length, every single-bit flip, and a
 * check that no error (message, cause or stack) carries plaintext or key material.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { CryptoError, type CryptoErrorReason } from './crypto-error.ts';
import { DEK_ID_BYTES, HEADER_BYTES, MIN_CIPHERTEXT_BYTES } from './envelope-format.ts';
import { createLocalKek } from './kek/kek-provider.ts';
import { cell, harness, recordingKek } from './test-fixtures.ts';

const PLAINTEXT = 'sk-ant-PLANTED-SECRET-4f9c2a7e1b-and-some-more-text';

async function reasonOf(p: Promise<unknown>): Promise<CryptoError> {
  try {
    const value = await p;
    assert.fail(`decrypt returned a value instead of failing: ${inspect(value)}`);
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
    return err;
  }
}

function expectedForFlip(byte: number): CryptoErrorReason {
  if (byte === 0) return 'bad_format';
  if (byte < 1 + DEK_ID_BYTES) return 'unknown_key';
  if (byte < HEADER_BYTES) return 'wrong_binding';
  return 'tampered';
}

describe('envelope attacks', () => {
  it('truncation at every length fails: bad_format below the minimum, tampered above it', async () => {
    const { envelope } = harness();
    const ct = await envelope.encrypt(cell('r1'), PLAINTEXT);
    for (let len = 0; len < ct.length; len++) {
      const err = await reasonOf(envelope.decrypt(cell('r1'), ct.subarray(0, len)));
      assert.equal(err.reason, len < MIN_CIPHERTEXT_BYTES ? 'bad_format' : 'tampered', `length ${len}`);
    }
    assert.equal((await reasonOf(envelope.decrypt(cell('r1'), Buffer.concat([ct, Buffer.of(0)])))).reason, 'tampered');
  });

  it('every single-bit flip anywhere fails, with the reason of the field it hit', async () => {
    const { envelope } = harness();
    const ct = await envelope.encrypt(cell('r1'), PLAINTEXT);
    for (let bit = 0; bit < ct.length * 8; bit++) {
      const bad = Buffer.from(ct);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      const err = await reasonOf(envelope.decrypt(cell('r1'), bad));
      assert.equal(err.reason, expectedForFlip(bit >> 3), `bit ${bit} (byte ${bit >> 3})`);
    }
    assert.equal((await envelope.decrypt(cell('r1'), ct)).toString(), PLAINTEXT, 'the original still decrypts');
  });

  it('splicing the body or tag of one ciphertext into another fails', async () => {
    const { envelope } = harness();
    const a = await envelope.encrypt(cell('r1'), PLAINTEXT);
    const b = await envelope.encrypt(cell('r1'), PLAINTEXT.replace('PLANTED', 'ANOTHER'));
    const spliced = Buffer.concat([a.subarray(0, HEADER_BYTES), b.subarray(HEADER_BYTES)]);
    assert.deepEqual(spliced.subarray(HEADER_BYTES), b.subarray(HEADER_BYTES));
    // header of a (same key, same binding) + IV/body/tag of b: b's tag covered b's header, which is equal: decrypts to b
    assert.equal((await envelope.decrypt(cell('r1'), spliced)).toString(), PLAINTEXT.replace('PLANTED', 'ANOTHER'));
    const mixed = Buffer.concat([a.subarray(0, a.length - 16), b.subarray(b.length - 16)]);
    assert.equal((await reasonOf(envelope.decrypt(cell('r1'), mixed))).reason, 'tampered');
  });

  it('no error carries the plaintext, a data key or the KEK', async () => {
    const kekBytes = randomBytes(32);
    const kek = createLocalKek(kekBytes, 'test KEK');
    const deks: Buffer[] = [];
    const { envelope, repo } = harness({ kek: recordingKek(kek, deks) });
    const ct = await envelope.encrypt(cell('r1'), PLAINTEXT);
    await envelope.encrypt(cell('r1', 't2'), PLAINTEXT);
    const errors: unknown[] = [];
    const collect = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        errors.push(e);
      }
    };
    for (let len = 0; len < ct.length; len += 7) await collect(envelope.decrypt(cell('r1'), ct.subarray(0, len)));
    for (let byte = 0; byte < ct.length; byte += 3) {
      const bad = Buffer.from(ct);
      bad[byte]! ^= 0x80;
      await collect(envelope.decrypt(cell('r1'), bad));
    }
    await collect(envelope.decrypt(cell('r2'), ct));
    await collect(envelope.decrypt(cell('r1', 't2'), ct));
    await collect(envelope.decrypt(cell('r1'), Buffer.from(PLAINTEXT)));
    const fresh = harness({ repository: repo, kek: createLocalKek(randomBytes(32), 'other KEK') });
    await collect(fresh.envelope.decrypt(cell('r1'), ct));
    assert.ok(errors.length > 40);

    const secrets = [
      PLAINTEXT,
      'PLANTED-SECRET',
      ...[kekBytes, ...deks].flatMap((k) => [k.toString('hex'), k.toString('base64'), k.toString('latin1')]),
    ];
    for (const err of errors) {
      const text = inspect(err, { depth: 10 });
      for (const s of secrets) assert.ok(!text.includes(s), `error leaks secret material: ${text.slice(0, 300)}`);
    }
  });
});
