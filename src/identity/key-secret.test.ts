import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KeySecretError, resolveKeyHashSecret } from './key-secret.ts';

const root = mkdtempSync(join(tmpdir(), 'portcullis-keysecret-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `d${++n}`, 'data');
const POSIX = process.platform !== 'win32';

describe('resolveKeyHashSecret', () => {
  it('uses the configured secret when there is one', () => {
    const s = 'x'.repeat(40);
    assert.deepEqual(resolveKeyHashSecret({ keyHashSecret: s, dataDir: freshDir() }), Buffer.from(s));
  });

  it('refuses a configured secret shorter than 32 characters', () => {
    assert.throws(
      () => resolveKeyHashSecret({ keyHashSecret: 'short', dataDir: freshDir() }),
      /at least 32 characters/,
    );
  });

  it('generates 32 random bytes once, owner-only, and returns the same secret afterwards', () => {
    const dataDir = freshDir();
    const first = resolveKeyHashSecret({ keyHashSecret: undefined, dataDir });
    assert.equal(first.length, 32);
    const file = join(dataDir, 'key-hash.secret');
    assert.deepEqual(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'), first);
    if (POSIX) {
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    }
    assert.deepEqual(resolveKeyHashSecret({ keyHashSecret: undefined, dataDir }), first);
    assert.deepEqual(readdirSync(dataDir), ['key-hash.secret'], 'no temp files left behind');
    assert.notDeepEqual(resolveKeyHashSecret({ keyHashSecret: undefined, dataDir: freshDir() }), first);
  });

  it('refuses a secret file readable by others', { skip: !POSIX }, () => {
    const dataDir = freshDir();
    resolveKeyHashSecret({ keyHashSecret: undefined, dataDir });
    chmodSync(join(dataDir, 'key-hash.secret'), 0o644);
    assert.throws(
      () => resolveKeyHashSecret({ keyHashSecret: undefined, dataDir }),
      (err: unknown) => {
        assert.ok(err instanceof KeySecretError);
        assert.match(err.message, /permissions 0644.*chmod 600/);
        return true;
      },
    );
  });

  it('refuses a secret file of the wrong length instead of replacing it', () => {
    const dataDir = freshDir();
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = join(dataDir, 'key-hash.secret');
    writeFileSync(file, Buffer.alloc(16, 7).toString('base64'), { mode: 0o600 });
    assert.throws(
      () => resolveKeyHashSecret({ keyHashSecret: undefined, dataDir }),
      /does not hold 32 base64-encoded bytes/,
    );
    assert.equal(readFileSync(file, 'utf8'), Buffer.alloc(16, 7).toString('base64'));
    writeFileSync(file, 'not base64 at all!!');
    assert.throws(() => resolveKeyHashSecret({ keyHashSecret: undefined, dataDir }), KeySecretError);
  });

  it('refuses a data dir others can write to', { skip: !POSIX }, () => {
    const dataDir = freshDir();
    mkdirSync(dataDir, { recursive: true });
    chmodSync(dataDir, 0o777);
    assert.throws(
      () => resolveKeyHashSecret({ keyHashSecret: undefined, dataDir }),
      /writable by group or others.*chmod 700/,
    );
  });
});
