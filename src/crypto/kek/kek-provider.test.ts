import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isCryptoError } from '../crypto-error.ts';
import { randomKek } from '../test-fixtures.ts';
import { createLocalKek, deriveKekId } from './kek-provider.ts';
import { createKeyring } from './keyring.ts';

describe('local KEK', () => {
  it('wraps and unwraps a data key; the wrapped form differs each time and hides the key', async () => {
    const kek = randomKek();
    const dek = randomBytes(32);
    const aad = Buffer.from('dek-1');
    const a = await kek.wrap(dek, aad);
    const b = await kek.wrap(dek, aad);
    assert.notDeepEqual(a, b);
    assert.equal(a.indexOf(dek), -1);
    assert.deepEqual(await kek.unwrap(a, aad), dek);
  });

  it('refuses to unwrap under other associated data, another KEK, or after any bit flip', async () => {
    const kek = randomKek();
    const dek = randomBytes(32);
    const wrapped = await kek.wrap(dek, Buffer.from('dek-1|tenant-a'));
    await assert.rejects(kek.unwrap(wrapped, Buffer.from('dek-1|tenant-b')), (e) => isCryptoError(e, 'tampered'));
    await assert.rejects(randomKek().unwrap(wrapped, Buffer.from('dek-1|tenant-a')), (e) =>
      isCryptoError(e, 'tampered'),
    );
    for (let bit = 0; bit < wrapped.length * 8; bit++) {
      const bad = Buffer.from(wrapped);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      await assert.rejects(
        kek.unwrap(bad, Buffer.from('dek-1|tenant-a')),
        (e) => isCryptoError(e, 'tampered'),
        `bit ${bit}`,
      );
    }
    for (let len = 0; len < wrapped.length; len++) {
      await assert.rejects(
        kek.unwrap(wrapped.subarray(0, len), Buffer.from('dek-1|tenant-a')),
        (e) => isCryptoError(e, 'tampered'),
        `length ${len}`,
      );
    }
  });

  it('has a stable id derived from the key, different per key, and not the key itself', () => {
    const key = randomBytes(32);
    assert.equal(createLocalKek(key, 'x').id, createLocalKek(Buffer.from(key), 'y').id);
    assert.notEqual(createLocalKek(key, 'x').id, randomKek().id);
    assert.equal(deriveKekId(key).length, 16);
    assert.ok(!key.toString('hex').includes(deriveKekId(key)));
  });

  it('keeps its own copy of the key, and is unusable once destroyed', async () => {
    const key = randomBytes(32);
    const kek = createLocalKek(key, 'x');
    const wrapped = await kek.wrap(randomBytes(32), Buffer.alloc(0));
    key.fill(0); // the caller wiping its buffer does not break the KEK
    await kek.unwrap(wrapped, Buffer.alloc(0));
    kek.destroy();
    await assert.rejects(
      kek.unwrap(wrapped, Buffer.alloc(0)),
      (e) => isCryptoError(e, 'bad_key') && /destroyed/.test(e.message),
    );
  });

  it('refuses keys of the wrong size', () => {
    assert.throws(
      () => createLocalKek(randomBytes(16), 'test key'),
      (e) => isCryptoError(e, 'bad_key') && /test key must hold exactly 32 bytes \(got 16\)/.test(e.message),
    );
  });
});

describe('keyring', () => {
  it('finds the current and previous KEKs by id and names both sides for an unknown one', () => {
    const current = randomKek();
    const previous = randomKek();
    const ring = createKeyring(current, [previous]);
    assert.equal(ring.forUnwrap(previous.id, 'x'), previous);
    assert.throws(
      () => createKeyring(current).forUnwrap(previous.id, 'data key d1 was'),
      (e) => {
        assert.ok(isCryptoError(e, 'wrong_kek'));
        assert.match(
          e.message,
          new RegExp(`^data key d1 was wrapped by KEK ${previous.id}, the configured KEK is ${current.id};`),
        );
        return true;
      },
    );
  });

  it('refuses the same KEK twice', () => {
    const k = randomKek();
    assert.throws(
      () => createKeyring(k, [k]),
      (e) => isCryptoError(e, 'bad_key'),
    );
  });
});
