import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../config/errors.ts';
import { parseConfig } from '../../config/load.ts';
import { TRACING_DEFAULTS } from './config.ts';

const ENV = { OTLP_TOKEN: 'collector-token-abcdef' };

function problems(yaml: string): string {
  try {
    parseConfig(yaml, '<test>', ENV);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

test('tracing is off by default', () => {
  const cfg = parseConfig('logging: { level: info }\n', '<test>', {});
  assert.equal(cfg.tracing.enabled, false);
  assert.equal(cfg.tracing.sampleRatio, TRACING_DEFAULTS.sampleRatio);
});

test('an enabled section needs an http(s) endpoint and resolves header references', () => {
  const cfg = parseConfig(
    'tracing:\n  enabled: true\n  endpoint: http://127.0.0.1:4318/v1/traces\n  sample_ratio: 0.25\n  headers: { authorization: "Bearer ${OTLP_TOKEN}" }\n',
    '<test>',
    ENV,
  );
  assert.equal(cfg.tracing.endpoint, 'http://127.0.0.1:4318/v1/traces');
  assert.equal(cfg.tracing.sampleRatio, 0.25);
  assert.deepEqual(cfg.tracing.headers, { authorization: 'Bearer collector-token-abcdef' });
  assert.match(problems('tracing: { enabled: true }\n'), /tracing\.endpoint.*required/);
  assert.match(problems('tracing: { enabled: true, endpoint: "ftp://x/v1/traces" }\n'), /tracing\.endpoint.*http/);
  assert.match(
    problems('tracing: { enabled: true, endpoint: "http://u:p@x/v1/traces" }\n'),
    /tracing\.endpoint.*credentials in the URL/,
  );
});

test('bad values are rejected with their path, not clamped', () => {
  assert.match(problems('tracing: { sample_ratio: 1.5 }\n'), /tracing\.sample_ratio.*0 to 1/);
  assert.match(problems('tracing: { sample_ratio: -0.1 }\n'), /tracing\.sample_ratio/);
  assert.match(
    problems('tracing: { max_queue_spans: 100, max_batch_spans: 200 }\n'),
    /tracing\.max_batch_spans.*must not exceed/,
  );
  assert.match(problems('tracing: { exporter: otlp }\n'), /unknown key 'exporter'/);
  assert.match(
    problems('tracing: { headers: { authorization: "Bearer literal-secret" } }\n'),
    /tracing\.headers\.authorization.*references/,
  );
});
