import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../config/errors.ts';
import { parseConfig } from '../../config/load.ts';
import { isLoopbackHost } from '../../config/network-checks.ts';

const TOKEN_ENV = { METRICS_TOKEN: 'm'.repeat(24), SHORT_TOKEN: 'short' };

function problems(yaml: string): string {
  try {
    parseConfig(yaml, '<test>', TOKEN_ENV);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

test('no metrics section: no listener', () => {
  const cfg = parseConfig('logging: { level: info }\n', '<test>', {});
  assert.deepEqual(cfg.metrics, { enabled: false, host: '127.0.0.1', port: 9464, bearerToken: undefined });
});

test('a metrics section turns the listener on, on localhost:9464 by default', () => {
  assert.deepEqual(parseConfig('metrics: {}\n', '<test>', {}).metrics, {
    enabled: true,
    host: '127.0.0.1',
    port: 9464,
    bearerToken: undefined,
  });
  assert.equal(parseConfig('metrics: { enabled: false }\n', '<test>', {}).metrics.enabled, false);
});

test('the bearer token comes from a reference', () => {
  const cfg = parseConfig('metrics: { port: 0, bearer_token: "${METRICS_TOKEN}" }\n', '<test>', TOKEN_ENV);
  assert.equal(cfg.metrics.bearerToken, TOKEN_ENV.METRICS_TOKEN);
  assert.equal(cfg.metrics.port, 0);
});

test('bad metrics settings are reported with their path, never echoing a secret', () => {
  const literal = problems('metrics: { bearer_token: "my-literal-token-12345" }\n');
  assert.match(literal, /metrics\.bearer_token.*references/);
  assert.doesNotMatch(literal, /my-literal-token/);
  assert.match(problems('metrics: { bearer_token: "${SHORT_TOKEN}" }\n'), /metrics\.bearer_token.*shorter than 16/);
  assert.match(problems('metrics: { bearer_token: "${UNSET_TOKEN}" }\n'), /metrics\.bearer_token.*UNSET_TOKEN/);
  assert.match(problems('metrics: { port: 70000 }\n'), /metrics\.port.*0 to 65535/);
  assert.match(problems('metrics: { enabled: "yes" }\n'), /metrics\.enabled.*true or false/);
  assert.match(problems('metrics: { path: /m }\n'), /unknown key 'path'/);
});

test('metrics never share the public port', () => {
  assert.match(
    problems('server: { port: 8080 }\nmetrics: { port: 8080 }\n'),
    /metrics\.port.*must differ from server\.port/,
  );
  // Both 0: each gets its own free port.
  assert.equal(parseConfig('server: { port: 0 }\nmetrics: { port: 0 }\n', '<test>', {}).metrics.port, 0);
  // Disabled: no listener, nothing to clash.
  assert.equal(
    parseConfig('server: { port: 8080 }\nmetrics: { enabled: false, port: 8080 }\n', '<test>', {}).metrics.enabled,
    false,
  );
});

test('a non-loopback metrics address requires a bearer token', () => {
  assert.match(
    problems('metrics: { host: 0.0.0.0 }\n'),
    /metrics\.bearer_token.*required when metrics\.host \(0\.0\.0\.0\) is not a loopback/,
  );
  const cfg = parseConfig('metrics: { host: 0.0.0.0, bearer_token: "${METRICS_TOKEN}" }\n', '<test>', TOKEN_ENV);
  assert.equal(cfg.metrics.host, '0.0.0.0');
});

test('loopback hosts', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '::ffff:127.0.0.1'])
    assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'metrics.internal', '128.0.0.1', '127.0.0.1.example.com'])
    assert.equal(isLoopbackHost(h), false, h);
});
