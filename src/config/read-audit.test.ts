import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from './errors.ts';
import { parseConfig } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MODELS =
  'providers:\n  p: { kind: openai, base_url: "https://api.openai.com/v1", api_key: "${K}" }\nmodels:\n  m: { targets: [ { provider: p, model: x } ] }\n';
const env = { K: 'sk-test' };

test('defaults: audit.db in the data folder, generated key, 1000 records / 60 s', () => {
  const cfg = parseConfig(`security: { data_dir: state }\n${MODELS}`, join(dir, 'a.yaml'), env);
  assert.deepEqual(cfg.audit, {
    path: join(dir, 'state', 'audit.db'),
    signingKeyPem: undefined,
    checkpointEvery: 1000,
    checkpointIntervalMs: 60_000,
    retentionDays: undefined,
  });
});

test('a signing key reference to a PEM file is read (line breaks kept) and checked', () => {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  writeFileSync(join(dir, 'audit.pem'), pem, { mode: 0o600 });
  const cfg = parseConfig(
    `audit:\n  path: logs/audit.sqlite\n  signing_key: "\${file:audit.pem}"\n  checkpoint_every: 5\n  checkpoint_interval_ms: 2000\n${MODELS}`,
    join(dir, 'b.yaml'),
    env,
  );
  assert.equal(cfg.audit.signingKeyPem, pem);
  assert.equal(cfg.audit.path, join(dir, 'logs', 'audit.sqlite'));
  assert.equal(cfg.audit.checkpointEvery, 5);
});

test('audit.retention_days: 30 days to 100 years, never silently shortened', () => {
  assert.equal(
    parseConfig(`audit: { retention_days: 400 }\n${MODELS}`, join(dir, 'r.yaml'), env).audit.retentionDays,
    400,
  );
  assert.match(
    configError(() => parseConfig(`audit: { retention_days: 7 }\n${MODELS}`, join(dir, 'r2.yaml'), env)),
    /audit\.retention_days: expected an integer from 30 to 36500, got 7/,
  );
  assert.match(
    configError(() => parseConfig(`audit: { retention_days: "1y" }\n${MODELS}`, join(dir, 'r3.yaml'), env)),
    /audit\.retention_days: expected an integer/,
  );
});

test('bad audit settings are reported with their path; nothing is clamped; no key material echoed', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();
  writeFileSync(join(dir, 'rsa.pem'), rsa);
  const yaml = `audit:\n  signing_key: "\${file:rsa.pem}"\n  checkpoint_every: 0\n  checkpoint_interval_ms: 10\n  retention: 30d\n${MODELS}`;
  const text = configError(() => parseConfig(yaml, join(dir, 'c.yaml'), env));
  assert.match(text, /audit\.signing_key: the referenced key is a rsa key; audit checkpoints need an Ed25519 key/);
  assert.match(text, /audit\.checkpoint_every: expected an integer from 1 to 100000, got 0/);
  assert.match(text, /audit\.checkpoint_interval_ms: expected an integer from 1000 to 86400000, got 10/);
  assert.match(text, /audit\.retention: unknown key/);
  assert.doesNotMatch(text, /BEGIN PRIVATE KEY/);
  const literal = configError(() =>
    parseConfig(`audit: { signing_key: "-----BEGIN PRIVATE KEY-----" }\n${MODELS}`, join(dir, 'd.yaml'), env),
  );
  assert.match(literal, /audit\.signing_key: expected a \$\{file:.*reference/);
  assert.doesNotMatch(literal, /BEGIN PRIVATE KEY-----"/);
});

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}
