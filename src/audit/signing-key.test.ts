import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Logger } from '../observability/logger.ts';
import { defaultAuditConfig } from './config.ts';
import { AUDIT_SIGNING_KEY_FILE, parsePrivateKeyPem, publicKeyFromPem, resolveSigningKeyPem } from './signing-key.ts';
import { newKeyPem, publicKeyOf, tempDir } from './test-support.ts';

const paths = (dataDir: string) => defaultAuditConfig(dataDir);

/** A logger that keeps what was warned. */
function recordingLog(): { log: Logger; warnings: Array<{ event?: string; msg: string }> } {
  const warnings: Array<{ event?: string; msg: string }> = [];
  const log = {
    warn: (o: { event?: string }, msg: string) => warnings.push({ ...o, msg }),
    info() {},
    error() {},
    debug() {},
  } as unknown as Logger;
  return { log, warnings };
}

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));

test("a key is generated once, owner-only, outside the log's folder, and reused", () => {
  const dataDir = join(dir, 'data');
  const first = resolveSigningKeyPem(undefined, paths(dataDir), { create: true });
  const second = resolveSigningKeyPem(undefined, paths(dataDir), { create: true });
  assert.equal(first, second);
  const file = join(dir, 'data-keys', AUDIT_SIGNING_KEY_FILE);
  assert.equal(paths(dataDir).generatedKeyPath, file);
  assert.equal(existsSync(join(dataDir, AUDIT_SIGNING_KEY_FILE)), false, 'nothing beside the log');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'data-keys')).mode & 0o777, 0o700);
  assert.equal(readFileSync(file, 'utf8'), first);
  assert.equal(parsePrivateKeyPem(first, 'k').asymmetricKeyType, 'ed25519');
});

test('a key file readable by others is refused, not used', () => {
  const dataDir = join(dir, 'loose');
  resolveSigningKeyPem(undefined, paths(dataDir), { create: true });
  chmodSync(paths(dataDir).generatedKeyPath, 0o644);
  assert.throws(() => resolveSigningKeyPem(undefined, paths(dataDir), { create: true }), /readable by its owner only/);
});

test('verify without a key file does not create one', () => {
  assert.throws(
    () => resolveSigningKeyPem(undefined, paths(join(dir, 'none')), { create: false }),
    /cannot read audit signing key .*ENOENT/,
  );
  assert.equal(existsSync(join(dir, 'none-keys')), false);
});

test('a key an older version generated beside the log is moved out on start, with a log line; readers find it either way', () => {
  const dataDir = join(dir, 'old');
  mkdirSync(dataDir, { mode: 0o700 });
  const pem = newKeyPem();
  const legacy = join(dataDir, AUDIT_SIGNING_KEY_FILE);
  writeFileSync(legacy, pem, { mode: 0o600 });
  // verify and export read it in place and change nothing.
  assert.equal(resolveSigningKeyPem(undefined, paths(dataDir), { create: false }), pem);
  assert.equal(existsSync(legacy), true);
  const { log, warnings } = recordingLog();
  assert.equal(
    resolveSigningKeyPem(undefined, paths(dataDir), { create: true, log }),
    pem,
    'the same key keeps signing',
  );
  assert.equal(existsSync(legacy), false, 'no longer beside the log');
  assert.equal(readFileSync(paths(dataDir).generatedKeyPath, 'utf8'), pem);
  assert.equal(statSync(paths(dataDir).generatedKeyPath).mode & 0o777, 0o600);
  assert.deepEqual(
    warnings.map((w) => w.event),
    ['audit.signing_key_moved'],
  );
  assert.match(
    warnings[0]!.msg,
    /moved the audit signing key from .*old\/audit-signing\.key .* to .*old-keys\/audit-signing\.key/,
  );
  assert.equal(resolveSigningKeyPem(undefined, paths(dataDir), { create: false }), pem);
});

test('when an older key differs from the one in use, the one in use stays and the old one is reported, not deleted', () => {
  const dataDir = join(dir, 'both');
  const current = resolveSigningKeyPem(undefined, paths(dataDir), { create: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, AUDIT_SIGNING_KEY_FILE), newKeyPem(), { mode: 0o600 });
  const { log, warnings } = recordingLog();
  assert.equal(resolveSigningKeyPem(undefined, paths(dataDir), { create: true, log }), current);
  assert.equal(existsSync(join(dataDir, AUDIT_SIGNING_KEY_FILE)), true);
  assert.deepEqual(
    warnings.map((w) => w.event),
    ['audit.signing_key_legacy_left'],
  );
});

test('only Ed25519 keys are accepted; public keys come from public or private PEM', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();
  assert.throws(() => parsePrivateKeyPem(rsa, 'the key'), /rsa key; audit checkpoints need an Ed25519 key/);
  const pair = generateKeyPairSync('ed25519');
  const priv = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const pub = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  assert.equal(publicKeyFromPem(pub, 'pub'), publicKeyOf(priv));
  assert.equal(publicKeyFromPem(priv, 'priv'), publicKeyOf(priv));
});
