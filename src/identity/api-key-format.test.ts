import assert from 'node:assert/strict';
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { API_KEY_LENGTH, displayPrefix, generateApiKey, hashApiKey, isWellFormedApiKey } from './api-key-format.ts';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('API key format', () => {
  it('generates pcl_ + 32 random + 6 checksum base62 characters that pass the check', () => {
    const key = generateApiKey();
    assert.equal(API_KEY_LENGTH, 42);
    assert.match(key, /^pcl_[0-9A-Za-z]{38}$/);
    assert.equal(isWellFormedApiKey(key), true);
  });

  it('never repeats a key', () => {
    const keys = new Set(Array.from({ length: 2000 }, generateApiKey));
    assert.equal(keys.size, 2000);
  });

  it('uses every base62 character without modulo bias', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      for (const ch of generateApiKey().slice(4, 36)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    assert.equal(counts.size, 62);
    // Plain `byte % 62` would make the first 8 characters 25% more frequent than the rest.
    const mean = (chars: string): number => [...chars].reduce((s, c) => s + (counts.get(c) ?? 0), 0) / chars.length;
    const ratio = mean(ALPHABET.slice(0, 8)) / mean(ALPHABET.slice(8));
    assert.ok(ratio > 0.93 && ratio < 1.07, `frequency ratio ${ratio.toFixed(3)}`);
  });

  it('catches every single-character typo and swap without a lookup', () => {
    const key = generateApiKey();
    for (let i = 4; i < key.length; i++) {
      for (const ch of ALPHABET) {
        if (ch === key[i]) continue;
        const typo = key.slice(0, i) + ch + key.slice(i + 1);
        assert.equal(isWellFormedApiKey(typo), false, `typo at ${i} accepted`);
      }
      if (i + 1 < key.length && key[i] !== key[i + 1]) {
        const swapped = key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2);
        assert.equal(isWellFormedApiKey(swapped), false, `swap at ${i} accepted`);
      }
    }
  });

  it('rejects wrong prefix, length, charset and non-strings', () => {
    const key = generateApiKey();
    for (const bad of [
      '',
      'pcl_',
      key.slice(0, -1),
      `${key}x`,
      ` ${key}`,
      `${key}\n`,
      `PCL_${key.slice(4)}`,
      `sk-${key.slice(3)}`,
      `${key.slice(0, 10)}-${key.slice(11)}`,
      `${key.slice(0, 10)}é${key.slice(11)}`,
    ])
      assert.equal(isWellFormedApiKey(bad), false, JSON.stringify(bad));
    for (const bad of [undefined, null, 42, { key }, [key]]) assert.equal(isWellFormedApiKey(bad), false);
  });

  it('shows only a short, fixed display prefix', () => {
    const key = generateApiKey();
    assert.equal(displayPrefix(key), key.slice(0, 12));
    assert.ok(displayPrefix(key).startsWith('pcl_'));
  });

  it('hashes with HMAC-SHA-256 under the secret (RFC 4231 test case 2)', () => {
    assert.equal(
      hashApiKey('what do ya want for nothing?', Buffer.from('Jefe')),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    const key = generateApiKey();
    assert.notEqual(hashApiKey(key, Buffer.alloc(32, 1)), hashApiKey(key, Buffer.alloc(32, 2)));
  });

  it('gives the same HMAC through the precomputed pads of a KeyObject, for short, block-size and long secrets', () => {
    // RFC 4231 test case 2, then case 6 (a 131-byte key, hashed first), then a 64-byte key.
    assert.equal(
      hashApiKey('what do ya want for nothing?', createSecretKey(Buffer.from('Jefe'))),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    assert.equal(
      hashApiKey('Test Using Larger Than Block-Size Key - Hash Key First', createSecretKey(Buffer.alloc(131, 0xaa))),
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
    for (const len of [32, 64, 65]) {
      const raw = randomBytes(len);
      const obj = createSecretKey(raw);
      for (const key of [generateApiKey(), generateApiKey(), '', 'ünïcode']) {
        assert.equal(hashApiKey(key, obj), createHmac('sha256', raw).update(key, 'utf8').digest('hex'));
        assert.equal(hashApiKey(key, obj), hashApiKey(key, obj), 'the cached pads are not consumed by a call');
      }
    }
  });
});
