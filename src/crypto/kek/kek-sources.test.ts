import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isCryptoError } from '../crypto-error.ts';
import { deriveKekId } from './kek-provider.ts';
import { kekFromEnv, kekFromFile, kekFromSecretValue } from './kek-sources.ts';

const dir = mkdtempSync(join(tmpdir(), 'pcl-kek-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function refusal(fn: () => unknown, says: RegExp, secret?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isCryptoError(err, 'bad_key'), String(err));
    assert.match(err.message, says);
    if (secret !== undefined) assert.ok(!err.message.includes(secret), `message leaks the value: ${err.message}`);
    return true;
  });
}

describe('KEK from a secret value', () => {
  it('accepts base64 of exactly 32 bytes and derives the id from the key', () => {
    const key = randomBytes(32);
    const kek = kekFromSecretValue(`${key.toString('base64')}\n`, 'security.master_key');
    assert.equal(kek.id, deriveKekId(key));
    assert.match(kek.id, /^[0-9a-f]{16}$/);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['empty', '   ', /security\.master_key is empty/],
    ['16 bytes', randomBytes(16).toString('base64'), /decodes to 16 bytes; it must hold base64 of exactly 32 bytes/],
    ['33 bytes', randomBytes(33).toString('base64'), /decodes to 33 bytes/],
    ['hex instead of base64', randomBytes(32).toString('hex'), /decodes to 48 bytes/],
    ['base64url alphabet', 'a-b_'.repeat(11), /not standard base64/],
    ['a passphrase', 'correct horse battery staple', /not standard base64/],
    ['missing padding', randomBytes(32).toString('base64').replace(/=+$/, ''), /not standard base64/],
  ];
  for (const [name, value, says] of bad) {
    it(`refuses ${name}, naming the source and never the value`, () => {
      refusal(() => kekFromSecretValue(value, 'security.master_key'), says, value.trim() === '' ? undefined : value);
    });
  }
});

describe('KEK from an environment variable', () => {
  it('reads it', () => {
    const key = randomBytes(32);
    assert.equal(kekFromEnv('PCL_KEK', { PCL_KEK: key.toString('base64') }).id, deriveKekId(key));
  });
  it('names an unset variable', () => {
    refusal(() => kekFromEnv('PCL_KEK', {}), /environment variable PCL_KEK is not set/);
  });
  it('names the variable holding a wrong value, without the value', () => {
    refusal(
      () => kekFromEnv('PCL_KEK', { PCL_KEK: 'hunter2hunter2' }),
      /environment variable PCL_KEK .*base64/,
      'hunter2hunter2',
    );
  });
});

describe('KEK from a file', () => {
  const key = randomBytes(32);
  const good = join(dir, 'kek.b64');
  writeFileSync(good, `${key.toString('base64')}\n`, { mode: 0o600 });

  it('reads an owner-only file, and a symlink to one', () => {
    assert.equal(kekFromFile(good).id, deriveKekId(key));
    const link = join(dir, 'kek-link');
    symlinkSync(good, link);
    assert.equal(kekFromFile(link).id, deriveKekId(key));
  });

  for (const mode of [0o640, 0o604, 0o644, 0o660, 0o602]) {
    it(`refuses mode 0${mode.toString(8)} (group/world access)`, { skip: process.platform === 'win32' }, () => {
      const p = join(dir, `loose-${mode.toString(8)}`);
      writeFileSync(p, key.toString('base64'), { mode: 0o600 });
      chmodSync(p, mode);
      refusal(
        () => kekFromFile(p),
        new RegExp(`KEK file ${p} has permissions 0${mode.toString(8)}; .*chmod 600`),
        key.toString('base64'),
      );
    });
  }

  it('refuses a missing file, a folder and a file with the wrong content, naming the path', () => {
    refusal(() => kekFromFile(join(dir, 'nope')), /cannot read KEK file .*nope \(ENOENT\)/);
    refusal(() => kekFromFile(dir), /is not a regular file/);
    const short = join(dir, 'short');
    const shortValue = randomBytes(24).toString('base64');
    writeFileSync(short, shortValue, { mode: 0o600 });
    refusal(() => kekFromFile(short), /KEK file .*short decodes to 24 bytes/, shortValue);
  });
});
