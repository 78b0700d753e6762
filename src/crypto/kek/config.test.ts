import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseConfig } from '../../config/load.ts';
import { configProblems } from '../../config/test-problems.ts';

const problems = (yaml: string, env: NodeJS.ProcessEnv): string => configProblems(yaml, env);

describe('security.master_key and previous_master_keys', () => {
  const b64 = randomBytes(32).toString('base64');
  const hexKey = randomBytes(32).toString('hex');

  it('accepts base64 and hex keys from references', () => {
    const cfg = parseConfig('security:\n  master_key: "${A}"\n  previous_master_keys: ["${B}"]\n', '<test>', {
      A: b64,
      B: hexKey,
    });
    assert.equal(cfg.security.masterKey, b64);
    assert.deepEqual(cfg.security.previousMasterKeys, [hexKey]);
    assert.equal(parseConfig('server: {}\n', '<test>', {}).security.masterKey, undefined);
  });

  it('names the path for a short key, never the value', () => {
    const short = randomBytes(16).toString('base64');
    const msg = problems('security:\n  master_key: "${A}"\n', { A: short });
    assert.match(msg, /security\.master_key: the referenced value decodes to 16 bytes; expected base64 of 32 bytes/);
    assert.ok(!msg.includes(short));
  });

  it('refuses previous keys without a current key, and the same key twice', () => {
    assert.match(
      problems('security:\n  previous_master_keys: ["${A}"]\n', { A: b64 }),
      /security\.master_key: is required when previous_master_keys is set/,
    );
    assert.match(
      problems('security:\n  master_key: "${A}"\n  previous_master_keys: ["${B}"]\n', {
        A: b64,
        B: Buffer.from(b64, 'base64').toString('hex'),
      }),
      /security\.previous_master_keys\[0\]: is the same key as master_key/,
    );
  });
});

describe('payload_log', () => {
  it('defaults to off, 30 days, no extra rules', () => {
    assert.deepEqual(parseConfig('server: {}\n', '<test>', {}).payloadLog, {
      enabled: false,
      retentionDays: 30,
      redact: [],
    });
  });

  it('rejects bad values and patterns, naming each', () => {
    const msg = problems(
      'payload_log:\n  enabled: yes please\n  retention_days: 0\n  redact: ["(", "x*", "ok"]\n  extra: 1\n',
      {},
    );
    assert.match(msg, /payload_log\.enabled: expected true or false/);
    assert.match(msg, /payload_log\.retention_days: expected an integer from 1 to 3650/);
    assert.match(msg, /payload_log\.redact\[0\]: is not a valid regular expression/);
    assert.match(msg, /payload_log\.redact\[1\]: matches the empty string/);
    assert.match(msg, /payload_log\.extra: unknown key 'extra'/);
  });
});
