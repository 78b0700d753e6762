import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from '../config/errors.ts';
import { parseConfig } from '../config/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const MODELS =
  'providers:\n  p: { kind: openai, base_url: "https://api.openai.com/v1", api_key: "${K}" }\nmodels:\n  m: { targets: [ { provider: p, model: x } ] }\n';
const env = { K: 'sk-test' };

test('defaults: audit.db in the data folder, generated key in a folder beside it, 1000 records / 5 s, writer thread', () => {
  const cfg = parseConfig(`security: { data_dir: state }\n${MODELS}`, join(dir, 'a.yaml'), env);
  assert.deepEqual(cfg.audit, {
    path: join(dir, 'state', 'audit.db'),
    signingKeyPem: undefined,
    generatedKeyPath: join(dir, 'state-keys', 'audit-signing.key'),
    legacyKeyPath: join(dir, 'state', 'audit-signing.key'),
    checkpointEvery: 1000,
    checkpointIntervalMs: 5_000,
    writer: 'inline',
    durability: 'fsync',
    retentionDays: undefined,
  });
});

test('audit.durability: fsync by default; relaxed is an explicit choice with a flush interval (SQLite only)', () => {
  const relaxed = parseConfig(`audit: { durability: relaxed }\n${MODELS}`, join(dir, 'd1.yaml'), env);
  assert.equal(relaxed.audit.durability, 'relaxed');
  assert.equal(relaxed.audit.flushIntervalMs, 1000);
  const tuned = parseConfig(
    `audit: { durability: relaxed, flush_interval_ms: 200 }\n${MODELS}`,
    join(dir, 'd2.yaml'),
    env,
  );
  assert.equal(tuned.audit.flushIntervalMs, 200);
  const bad = (yaml: string, e: Record<string, string> = env) =>
    configError(() => parseConfig(`${yaml}\n${MODELS}`, join(dir, 'd3.yaml'), e));
  assert.match(bad('audit: { durability: none }'), /audit\.durability: expected one of: fsync, relaxed/);
  assert.match(
    bad('audit: { durability: relaxed, flush_interval_ms: 5 }'),
    /audit\.flush_interval_ms: expected an integer from 10 to 60000/,
  );
  assert.match(bad('audit: { durability: relaxed, flush_interval_ms: 120000 }'), /flush_interval_ms/);
  // A flush interval means nothing when every commit is already on disk: a mistake, not a no-op.
  assert.match(
    bad('audit: { flush_interval_ms: 500 }'),
    /audit\.flush_interval_ms: applies only with audit\.durability: relaxed/,
  );
  const pg = 'store: { driver: postgres, url: "${DB}" }\nsecurity: { key_hash_secret: "${S}" }\n';
  const penv = { ...env, DB: 'postgres://u@h/db', S: 'x'.repeat(43) };
  const onPg = parseConfig(`${pg}audit: { durability: relaxed }\n${MODELS}`, join(dir, 'd4.yaml'), penv);
  assert.equal(onPg.audit.durability, 'relaxed');
  assert.equal(onPg.audit.flushIntervalMs, undefined, 'the server flushes its own WAL');
  assert.match(
    bad(`${pg}audit: { durability: relaxed, flush_interval_ms: 500 }`, penv),
    /audit\.flush_interval_ms: applies to the SQLite audit log only/,
  );
});

test('audit.writer: inline is the only other choice', () => {
  const cfg = parseConfig(`audit: { writer: inline }\n${MODELS}`, join(dir, 'w.yaml'), env);
  assert.equal(cfg.audit.writer, 'inline');
  assert.match(
    configError(() => parseConfig(`audit: { writer: async }\n${MODELS}`, join(dir, 'w2.yaml'), env)),
    /audit\.writer/,
  );
});

test("audit.key_dir moves the generated key; it may not be the audit log's folder or inside it", () => {
  const cfg = parseConfig(
    `security: { data_dir: state }\naudit: { key_dir: /etc/portcullis/keys }\n${MODELS}`,
    join(dir, 'k.yaml'),
    env,
  );
  assert.equal(cfg.audit.generatedKeyPath, '/etc/portcullis/keys/audit-signing.key');
  assert.match(
    configError(() =>
      parseConfig(
        `security: { data_dir: state }\naudit: { key_dir: state/keys }\n${MODELS}`,
        join(dir, 'k2.yaml'),
        env,
      ),
    ),
    /audit\.key_dir: the generated signing key would sit in the audit log's folder .*state/,
  );
  assert.match(
    configError(() =>
      parseConfig(`audit: { path: logs/audit.db, key_dir: logs }\n${MODELS}`, join(dir, 'k3.yaml'), env),
    ),
    /audit\.key_dir: the generated signing key would sit/,
  );
});

test('with store.driver postgres the audit log lives in the database: audit.path is refused', () => {
  const pg = 'store: { driver: postgres, url: "${DB}" }\nsecurity: { key_hash_secret: "${S}" }\n';
  const penv = { ...env, DB: 'postgres://u@h/db', S: 'x'.repeat(43) };
  const cfg = parseConfig(`${pg}${MODELS}`, join(dir, 'p.yaml'), penv);
  assert.deepEqual(cfg.audit.postgres, { url: 'postgres://u@h/db', schema: 'public' });
  // No log in the data folder with PostgreSQL: a generated key stays on the instance's one writable volume.
  assert.equal(cfg.audit.generatedKeyPath, join(dir, 'data', 'keys', 'audit-signing.key'));
  assert.match(
    configError(() => parseConfig(`${pg}audit: { path: a.db }\n${MODELS}`, join(dir, 'p2.yaml'), penv)),
    /audit\.path: applies to store\.driver sqlite only/,
  );
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
