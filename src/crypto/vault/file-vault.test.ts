import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isCryptoError } from '../crypto-error.ts';
import { wrapAad } from '../data-keys.ts';
import { createFileVault, tenantKeyFileName } from './file-vault.ts';
import { runVaultContract } from './vault-contract.ts';

const root = mkdtempSync(join(tmpdir(), 'pcl-file-vault-'));
after(() => rmSync(root, { recursive: true, force: true }));
const aad = (t: string) => wrapAad({ id: 'c'.repeat(32), tenantId: t, version: 1 });
let n = 0;
const fresh = (): string => join(root, `v${++n}`, 'tenant-keys');

runVaultContract('file', () => {
  const dir = fresh();
  return { make: () => createFileVault(dir) };
});

describe('file tenant key vault', () => {
  it('creates an owner-only folder and owner-only key files named by a hash, inside the folder whatever the tenant id', async () => {
    const dir = fresh();
    const v = createFileVault(dir);
    await v.seal('../../../escape', randomBytes(40), aad('../../../escape'));
    await v.seal('acme', randomBytes(40), aad('acme'));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, [tenantKeyFileName('../../../escape'), tenantKeyFileName('acme')].sort());
    for (const f of files) {
      assert.match(f, /^[0-9a-f]{40}\.key$/);
      assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, f)).size, 52);
    }
    assert.ok(!files.some((f) => f.includes('acme')), 'the tenant id is not in the file name');
    assert.deepEqual(readdirSync(join(dir, '..')), ['tenant-keys'], 'nothing written outside the folder');
  });

  it('destroy overwrites the key with zeros before unlinking it (seen through a second hard link)', async () => {
    const dir = fresh();
    const v = createFileVault(dir);
    await v.seal('acme', randomBytes(40), aad('acme'));
    const file = join(dir, tenantKeyFileName('acme'));
    const spy = join(dir, '..', 'spy-link');
    linkSync(file, spy);
    assert.ok(readFileSync(spy).some((b) => b !== 0));
    assert.equal(await v.destroy('acme'), true);
    assert.equal(existsSync(file), false);
    const after = readFileSync(spy);
    assert.equal(after.length, 52);
    assert.ok(
      after.every((b) => b === 0),
      'the bytes of the destroyed key are zeros',
    );
  });

  it('refuses a folder group or others may write, and a key file others may read', async () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o770);
    await assert.rejects(
      createFileVault(dir).seal('acme', randomBytes(40), aad('acme')),
      (e) => isCryptoError(e, 'bad_key') && /writable by group or others.*chmod 700/.test(e.message),
    );
    chmodSync(dir, 0o700);
    const v = createFileVault(dir);
    const sealed = await v.seal('acme', randomBytes(40), aad('acme'));
    chmodSync(join(dir, tenantKeyFileName('acme')), 0o644);
    await assert.rejects(
      v.open('acme', sealed, aad('acme')),
      (e) => isCryptoError(e, 'bad_key') && /chmod 600/.test(e.message),
    );
  });

  it('refuses a key file that is malformed or a symlink', async () => {
    const dir = fresh();
    const v = createFileVault(dir);
    const sealed = await v.seal('acme', randomBytes(40), aad('acme'));
    const file = join(dir, tenantKeyFileName('acme'));
    writeFileSync(file, randomBytes(52), { mode: 0o600 });
    await assert.rejects(
      v.open('acme', sealed, aad('acme')),
      (e) => isCryptoError(e, 'bad_key') && /malformed/.test(e.message),
    );
    rmSync(file);
    const { symlinkSync } = await import('node:fs');
    symlinkSync(join(root, 'elsewhere'), file);
    await assert.rejects(
      v.open('acme', sealed, aad('acme')),
      (e) => isCryptoError(e, 'bad_key') && /not a regular file/.test(e.message),
    );
  });

  it('leaves no temp files behind, also when two objects race to create one tenant key', async () => {
    const dir = fresh();
    const [a, b] = [createFileVault(dir), createFileVault(dir)];
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).seal('acme', randomBytes(40), aad('acme'))));
    assert.deepEqual(readdirSync(dir), [tenantKeyFileName('acme')]);
  });
});
