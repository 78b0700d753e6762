import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base32Decode, base32Encode, matchTotp, otpauthUri, totpCode, totpStepAt } from './totp.ts';

// RFC 6238 Appendix B, SHA-1 seed; the 6-digit code is the last 6 digits of the 8-digit vector.
const SEED = Buffer.from('12345678901234567890', 'ascii');
const VECTORS: ReadonlyArray<readonly [number, string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

describe('TOTP (RFC 6238)', () => {
  it('matches the RFC test vectors', () => {
    for (const [t, code] of VECTORS) assert.equal(totpCode(SEED, totpStepAt(t * 1000)), code.slice(-6), `T=${t}`);
  });

  it('accepts the current step and one either side, returning the step; refuses two away and junk', () => {
    const now = 1_800_000_000_000;
    const step = totpStepAt(now);
    assert.equal(matchTotp(SEED, totpCode(SEED, step), now), step);
    assert.equal(matchTotp(SEED, totpCode(SEED, step - 1), now), step - 1);
    assert.equal(matchTotp(SEED, totpCode(SEED, step + 1), now), step + 1);
    assert.equal(matchTotp(SEED, totpCode(SEED, step - 2), now), undefined);
    assert.equal(matchTotp(SEED, totpCode(SEED, step + 2), now), undefined);
    for (const junk of ['', '12345', '1234567', 'abcdef', ' 12345', '１２３４５６'])
      assert.equal(matchTotp(SEED, junk, now), undefined);
  });

  it('round-trips base32 (RFC 4648 vectors) and builds an otpauth URI', () => {
    assert.equal(base32Encode(Buffer.from('foobar')), 'MZXW6YTBOI');
    assert.equal(base32Encode(Buffer.from('f')), 'MY');
    assert.deepEqual(base32Decode('mzxw 6ytb oi======'), Buffer.from('foobar'));
    assert.throws(() => base32Decode('MZ1'));
    const uri = new URL(otpauthUri(SEED, 'a+b@example.com'));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.searchParams.get('secret'), base32Encode(SEED));
    assert.equal(uri.searchParams.get('digits'), '6');
    assert.equal(uri.searchParams.get('period'), '30');
    assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
  });
});
