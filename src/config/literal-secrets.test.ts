/**
 * `config check` refuses every secret-bearing field written as a literal value, names the
 * YAML path, and never prints the value. Covers the fields of every section that holds one.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkConfigFile } from './check.ts';
import { literalSecretShape } from './secrets.ts';

const dir = mkdtempSync(join(tmpdir(), 'pcl-literal-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = `sk-${randomBytes(18).toString('hex')}`;
const MASTER = randomBytes(32).toString('base64');
const JWT = `eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ${randomBytes(6).toString('hex')}In0.c2ln`;
const provider = (extra: string) =>
  `providers:\n  p:\n    kind: openai\n    base_url: https://api.example.com/v1\n    api_key: "\${K}"\n${extra}`;

const cases: ReadonlyArray<readonly [string, string, string, string]> = [
  [
    'providers.p.api_key',
    'providers:\n  p:\n    kind: openai\n    base_url: https://api.example.com/v1\n    api_key: SECRET\n',
    'providers.p.api_key',
    SECRET,
  ],
  ['security.key_hash_secret', 'security:\n  key_hash_secret: SECRET\n', 'security.key_hash_secret', SECRET],
  ['security.master_key', `security:\n  master_key: ${MASTER}\n`, 'security.master_key', MASTER],
  [
    'security.previous_master_keys',
    `security:\n  master_key: "\${M}"\n  previous_master_keys: [${MASTER}]\n`,
    'security.previous_master_keys[0]',
    MASTER,
  ],
  ['store.url', 'store:\n  driver: postgres\n  url: postgres://u:SECRET@db/x\n', 'store.url', SECRET],
  [
    'security.tenant_keys.url',
    'security:\n  tenant_keys:\n    vault: postgres\n    url: postgres://u:SECRET@db/vault\n',
    'security.tenant_keys.url',
    SECRET,
  ],
  ['metrics.bearer_token', 'metrics:\n  enabled: true\n  bearer_token: SECRET\n', 'metrics.bearer_token', SECRET],
  [
    'a credential header',
    provider('    headers:\n      Authorization: Bearer SECRET\n'),
    'providers.p.headers.Authorization',
    SECRET,
  ],
  [
    'an API key in a custom header',
    provider('    headers:\n      X-Upstream-Token: SECRET\n'),
    'providers.p.headers["X-Upstream-Token"]',
    SECRET,
  ],
  [
    'a JWT in a custom header',
    provider(`    headers:\n      X-Id-Token: ${JWT}\n`),
    'providers.p.headers["X-Id-Token"]',
    JWT,
  ],
  [
    'a tracing header',
    'tracing:\n  enabled: true\n  endpoint: http://127.0.0.1:4318/v1/traces\n  headers:\n    x-honeycomb-team: SECRET\n',
    'tracing.headers["x-honeycomb-team"]',
    SECRET,
  ],
];

describe('config check refuses literal secrets', () => {
  const env = { K: 'k', M: randomBytes(32).toString('base64') };
  for (const [name, yaml, path, secret] of cases) {
    it(name, () => {
      const file = join(dir, `${path.replace(/\W/g, '_')}.yaml`);
      writeFileSync(file, yaml.replaceAll('SECRET', SECRET));
      const r = checkConfigFile(file, env);
      assert.equal(r.ok, false, `accepted: ${r.text}`);
      assert.ok(r.text.includes(path), `names ${path}: ${r.text}`);
      assert.ok(!r.text.includes(secret), `echoes the secret: ${r.text}`);
    });
  }

  it('accepts references and ordinary header values', () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(
      file,
      `${provider('    headers:\n      Authorization: "Bearer ${K}"\n      OpenAI-Organization: org-acme\n      X-Title: my-app-production-v2\n')}security:\n  master_key: "\${M}"\n`,
    );
    const r = checkConfigFile(file, env);
    assert.equal(r.ok, true, r.text);
    assert.equal(literalSecretShape('Bearer ${TOKEN}'), undefined);
    assert.equal(literalSecretShape('/var/lib/portcullis/some/long/path/name'), undefined);
  });
});
