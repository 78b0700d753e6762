/**
 * Every config in examples/ passes `portcullis config check` as the CLI runs it, and matches
 * the JSON Schema in docs/ that its first line points editors at. The TLS example is checked
 * in a copy next to freshly generated PEM files (its paths are relative to the file).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import { schemaViolations } from '../src/config/test-schema.ts';
import { createTestPki, type TestPki } from '../src/tls/test-support.ts';
import { CLI, ROOT } from './helpers/gateway.ts';

const execFileP = promisify(execFile);
const EXAMPLES = join(ROOT, 'examples');
const SCHEMA = JSON.parse(readFileSync(join(ROOT, 'docs', 'config.schema.json'), 'utf8')) as Record<string, unknown>;

/** The environment the examples' headers ask for, with made-up values. */
const ENV = {
  OPENAI_API_KEY: 'sk-example-openai',
  ANTHROPIC_API_KEY: 'sk-ant-example',
  GEMINI_API_KEY: 'example-gemini',
  MISTRAL_API_KEY: 'example-mistral',
  DATABASE_URL: 'postgres://portcullis:pw@db.internal:5432/portcullis?sslmode=verify-full',
  PORTCULLIS_VAULT_URL: 'postgres://portcullis:pw@vault-db.internal:5432/portcullis_vault',
  REDIS_URL: 'rediss://:pw@redis.internal:6379',
  PORTCULLIS_KEY_HASH_SECRET: 'k'.repeat(48),
  PORTCULLIS_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
  PORTCULLIS_METRICS_TOKEN: 'm'.repeat(24),
  PORTCULLIS_AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519')
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString(),
};

const work = mkdtempSync(join(tmpdir(), 'portcullis-examples-'));
let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});
after(() => {
  pki.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

test('examples/ holds the documented set', () => {
  assert.deepEqual(examples, [
    'guardrails.yaml',
    'minimal.yaml',
    'multi-provider-fallback.yaml',
    'oauth-jwt.yaml',
    'scale-out.yaml',
    'tls.yaml',
  ]);
});

/** Where to check an example: the TLS one in a copy with real certificate files beside it. */
function placed(name: string): string {
  if (name !== 'tls.yaml') return join(EXAMPLES, name);
  const dir = join(work, 'tls-example');
  mkdirSync(join(dir, 'tls'), { recursive: true });
  copyFileSync(join(EXAMPLES, name), join(dir, name));
  writeFileSync(join(dir, 'tls', 'cert.pem'), pki.server.cert);
  writeFileSync(join(dir, 'tls', 'key.pem'), pki.server.key, { mode: 0o600 });
  writeFileSync(join(dir, 'tls', 'clients-ca.pem'), pki.ca.cert);
  return join(dir, name);
}

for (const name of examples) {
  test(`examples/${name} passes config check and the JSON Schema`, async () => {
    const text = readFileSync(join(EXAMPLES, name), 'utf8');
    assert.match(
      text,
      /^# yaml-language-server: \$schema=\.\.\/docs\/config\.schema\.json\n/,
      'first line points editors at the schema',
    );
    assert.deepEqual(schemaViolations(SCHEMA, parseDocument(text).toJS()), []);
    // Run from a scratch folder: the examples' relative data_dir must not land in the repository.
    const { stdout } = await execFileP(process.execPath, [CLI, 'config', 'check', placed(name)], {
      cwd: work,
      env: { ...process.env, ...ENV },
    });
    assert.match(stdout, /^Config OK: /);
    for (const secret of Object.values(ENV).filter((v) => v.length >= 16))
      assert.ok(!stdout.includes(secret), `config check printed a secret of ${name}`);
  });
}

test('a misspelt key in an example is refused by config check and by the schema alike', async () => {
  const file = join(work, 'typo.yaml');
  writeFileSync(file, readFileSync(join(EXAMPLES, 'scale-out.yaml'), 'utf8').replace('pool_size: 10', 'pool_sise: 10'));
  const r = await execFileP(process.execPath, [CLI, 'config', 'check', file], {
    cwd: work,
    env: { ...process.env, ...ENV },
  }).then(
    () => assert.fail('accepted'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(r.code, 2);
  assert.match(r.stderr, /store\.pool_sise: unknown key/);
  assert.deepEqual(schemaViolations(SCHEMA, parseDocument(readFileSync(file, 'utf8')).toJS()), [
    'store.pool_sise: unknown key',
  ]);
});
