import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkConfigFile } from './check.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('checkConfigFile', () => {
  it('summarises a valid file', () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(
      file,
      [
        'providers:',
        '  openai: { kind: openai, base_url: "https://api.openai.com/v1", api_key: "${OPENAI_API_KEY}" }',
        'models:',
        '  a: { targets: [{ provider: openai, model: x }, { provider: openai, model: y, priority: 1 }] }',
        '  b: { targets: [{ provider: openai, model: z }] }',
      ].join('\n'),
    );
    const r = checkConfigFile(file, { OPENAI_API_KEY: 'sk-x' });
    assert.equal(r.ok, true);
    assert.match(r.text, /providers: 1 \(openai\)/);
    assert.match(r.text, /models: {4}2 \(a, b\)/);
    assert.match(r.text, /targets: {3}3/);
    assert.ok(!r.text.includes('sk-x'));
  });

  it('lists every problem of an invalid file', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'server: { port: -1 }\nlogging: { level: nope }\n');
    const r = checkConfigFile(file, {});
    assert.equal(r.ok, false);
    assert.match(r.text, /2 problems/);
    assert.match(r.text, /bad\.yaml:1:\d+: server\.port/);
    assert.match(r.text, /bad\.yaml:2:\d+: logging\.level/);
  });

  it('warns when the audit signing key is generated on the machine, and says where it is', () => {
    const file = join(dir, 'audit-key.yaml');
    writeFileSync(file, 'security: { data_dir: ./state }\n');
    const r = checkConfigFile(file, {});
    assert.equal(r.ok, true);
    assert.match(r.text, /audit: +sqlite .*state.audit\.db, generated key .*state-keys.audit-signing\.key/);
    assert.match(
      r.text,
      /Warning: audit\.signing_key is not configured: .*generated on this machine .*state-keys.audit-signing\.key.*in production set audit\.signing_key/,
    );
    const pem = join(dir, 'audit.pem');
    writeFileSync(pem, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), {
      mode: 0o600,
    });
    const configured = join(dir, 'audit-configured.yaml');
    writeFileSync(configured, 'security: { data_dir: ./state }\naudit: { signing_key: "${file:audit.pem}" }\n');
    const c = checkConfigFile(configured, {});
    assert.match(c.text, /configured signing key/);
    assert.doesNotMatch(c.text, /audit\.signing_key is not configured/);
  });
});
