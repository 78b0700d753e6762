import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AUDIT_SIGNING_KEY_FILE, parsePrivateKeyPem, publicKeyFromPem, resolveSigningKeyPem } from './signing-key.ts';
import { publicKeyOf, tempDir } from './test-support.ts';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));

test('a key is generated once, owner-only, and reused', () => {
  const dataDir = join(dir, 'data');
  const first = resolveSigningKeyPem(undefined, dataDir, { create: true });
  const second = resolveSigningKeyPem(undefined, dataDir, { create: true });
  assert.equal(first, second);
  const file = join(dataDir, AUDIT_SIGNING_KEY_FILE);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(readFileSync(file, 'utf8'), first);
  assert.equal(parsePrivateKeyPem(first, 'k').asymmetricKeyType, 'ed25519');
});

test('a key file readable by others is refused, not used', () => {
  const dataDir = join(dir, 'loose');
  resolveSigningKeyPem(undefined, dataDir, { create: true });
  chmodSync(join(dataDir, AUDIT_SIGNING_KEY_FILE), 0o644);
  assert.throws(() => resolveSigningKeyPem(undefined, dataDir, { create: true }), /readable by its owner only/);
});

test('verify without a key file does not create one', () => {
  assert.throws(
    () => resolveSigningKeyPem(undefined, join(dir, 'none'), { create: false }),
    /cannot read audit signing key .*ENOENT/,
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
