import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from './errors.ts';
import { parseConfig } from './load.ts';
import { interpolate, resolveSecretReference } from './secrets.ts';

const PLANTED = 'sk-PLANTED-7c1f0e9a2b';
const dir = mkdtempSync(join(tmpdir(), 'portcullis-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function messageOf(yaml: string, env: NodeJS.ProcessEnv): string {
  try {
    parseConfig(yaml, join(dir, 'gw.yaml'), env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message + JSON.stringify(err.problems);
  }
  assert.fail('config accepted');
}

const provider = (apiKey: string, extra = ''): string =>
  `providers:\n  p:\n    kind: openai\n    base_url: https://x.example\n    api_key: ${apiKey}\n${extra}`;

describe('secrets never appear in config errors', () => {
  const cases: ReadonlyArray<readonly [string, string, NodeJS.ProcessEnv]> = [
    ['a literal api_key', provider(PLANTED), {}],
    ['a literal key_hash_secret', `security: { key_hash_secret: ${PLANTED} }`, {}],
    ['a secret pasted as a reference name', provider(`"\${${PLANTED}}"`), {}],
    ['an env value with a newline', provider('"${OPENAI_API_KEY}"'), { OPENAI_API_KEY: `${PLANTED}\nX-Injected: 1` }],
    ['a too-short key_hash_secret', 'security: { key_hash_secret: "${KHS}" }', { KHS: PLANTED }],
    [
      'a literal Authorization header',
      provider('"${K}"', `    headers: { Authorization: "Bearer ${PLANTED}" }`),
      { K: 'k' },
    ],
    ['a secret after a YAML syntax error', `server: }\napi_key: ${PLANTED}`, {}],
    ['a secret in a wrongly typed field', `server: { host: [${PLANTED}] }`, {}],
    ['a secret given to a non-secret field', `store: { path: "${PLANTED}\${X}" }`, { X: PLANTED }],
  ];
  for (const [name, yaml, env] of cases) {
    it(name, () => {
      const msg = messageOf(yaml, env);
      assert.ok(!msg.includes(PLANTED), `secret leaked: ${msg}`);
      assert.ok(!msg.includes('PLANTED'), `part of the secret leaked: ${msg}`);
    });
  }

  it('names the variable that is unset or unsafe, not its value', () => {
    const msg = messageOf(provider('"${OPENAI_API_KEY}"'), { OPENAI_API_KEY: `${PLANTED}\r\n` });
    assert.match(msg, /OPENAI_API_KEY contains control characters/);
  });
});

describe('secret references', () => {
  const ctx = { env: { A: 'alpha', EMPTY: '' }, baseDir: dir };

  it('resolves ${file:…} relative to the config folder and trims the trailing newline only', () => {
    writeFileSync(join(dir, 'key.txt'), '  spaced-secret \r\n\n');
    assert.deepEqual(resolveSecretReference('${file:key.txt}', ctx), { ok: true, value: '  spaced-secret ' });
    assert.deepEqual(resolveSecretReference(`\${file:${join(dir, 'key.txt')}}`, ctx), {
      ok: true,
      value: '  spaced-secret ',
    });
  });

  it('refuses empty values and unreadable files', () => {
    writeFileSync(join(dir, 'empty.txt'), '\n');
    assert.deepEqual(resolveSecretReference('${file:empty.txt}', ctx), {
      ok: false,
      error: `secret file ${join(dir, 'empty.txt')} is empty`,
    });
    assert.deepEqual(resolveSecretReference('${EMPTY}', ctx), {
      ok: false,
      error: 'environment variable EMPTY is empty',
    });
    assert.equal(resolveSecretReference('${file:}', ctx).ok, false);
    if (process.getuid?.() !== 0) {
      writeFileSync(join(dir, 'locked.txt'), 'x');
      chmodSync(join(dir, 'locked.txt'), 0o000);
      const r = resolveSecretReference('${file:locked.txt}', ctx);
      assert.deepEqual(r, { ok: false, error: `cannot read secret file ${join(dir, 'locked.txt')} (EACCES)` });
    }
  });

  it('requires exactly one reference in secret fields', () => {
    assert.equal(resolveSecretReference('${A}', ctx).ok, true);
    assert.equal(resolveSecretReference('x${A}', ctx).ok, false);
    assert.equal(resolveSecretReference('${A}${A}', ctx).ok, false);
  });

  it('interpolates header values and rejects an unterminated reference', () => {
    assert.deepEqual(interpolate('Bearer ${A}; v=${A}', ctx), { ok: true, value: 'Bearer alpha; v=alpha' });
    assert.deepEqual(interpolate('plain', ctx), { ok: true, value: 'plain' });
    assert.equal(interpolate('Bearer ${A', ctx).ok, false);
  });
});
