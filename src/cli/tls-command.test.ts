import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { spkiSha256 } from '../tls/spki-pin.ts';

const CLI = resolve(import.meta.dirname, 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [CLI, ...args]);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('portcullis tls self-signed', () => {
  it('writes a 0600 key and a certificate for the requested hosts and prints its pin', async () => {
    const out = join(dir, 'a');
    const r = await run([
      'tls',
      'self-signed',
      '--out',
      out,
      '--host',
      'gw.internal',
      '--host',
      '10.0.0.7',
      '--days',
      '7',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(join(out, 'key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(out).mode & 0o777, 0o700);
    const certPem = readFileSync(join(out, 'cert.pem'), 'utf8');
    assert.equal(new X509Certificate(certPem).subjectAltName, 'DNS:gw.internal, IP Address:10.0.0.7');
    assert.match(
      r.stdout,
      new RegExp(`SPKI pin \\(sha256, base64\\): ${spkiSha256(certPem).replace(/[+/]/g, '\\$&')}`),
    );
    assert.ok(!r.stdout.includes('PRIVATE KEY'), 'the key is never printed');
  });

  it('refuses to overwrite unless --force, and --force never leaves the new key readable by others', async () => {
    const out = join(dir, 'b');
    assert.equal((await run(['tls', 'self-signed', '--out', out])).code, 0);
    const before = readFileSync(join(out, 'key.pem'), 'utf8');
    const refused = await run(['tls', 'self-signed', '--out', out]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /already exist; pass --force/);
    assert.equal(readFileSync(join(out, 'key.pem'), 'utf8'), before, 'nothing was touched');

    chmodSync(join(out, 'key.pem'), 0o644);
    const forced = await run(['tls', 'self-signed', '--out', out, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(readFileSync(join(out, 'key.pem'), 'utf8'), before);
    assert.equal(statSync(join(out, 'key.pem')).mode & 0o777, 0o600);
  });

  it('refuses bad usage with exit 2', async () => {
    writeFileSync(join(dir, 'x'), '');
    for (const args of [
      ['tls'],
      ['tls', 'other'],
      ['tls', 'self-signed'],
      ['tls', 'self-signed', '--out', dir, '--days', '0'],
      ['tls', 'self-signed', '--out', dir, '--days', 'ten'],
      ['tls', 'self-signed', '--out', dir, '--host', 'a b'],
    ]) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal((await run(['tls', '--help'])).code, 0);
  });
});
