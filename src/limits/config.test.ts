import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../config/errors.ts';
import { parseConfig } from '../config/load.ts';

const ENV = { REDIS_URL: 'redis://:s3cret-pass@10.0.0.7:6379/0', NOT_A_URL: 'not a url at all' };
const parse = (limits: string) => parseConfig(`limits:\n${limits}`, '<test>', ENV);

function problems(limits: string): Array<{ path: string; message: string }> {
  try {
    parse(limits);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => ({ path: p.path, message: p.message }));
    throw err;
  }
  return [];
}

describe('limits config', () => {
  it('defaults to the memory backend with no rules, failing closed', () => {
    const cfg = parseConfig('server: { port: 0 }', '<test>', ENV);
    assert.equal(cfg.limits.backend, 'memory');
    assert.equal(cfg.limits.onBackendError, 'fail_closed');
    assert.equal(cfg.limits.defaultMaxTokens, 1024);
    assert.deepEqual(cfg.limits.rules, []);
  });

  it('reads the documented example', () => {
    const cfg = parse(
      [
        '  backend: redis',
        '  redis: { url: "${REDIS_URL}", key_prefix: "portcullis:" }',
        '  on_backend_error: local_fallback',
        '  default_max_tokens: 2048',
        '  rules:',
        '    - { scope: key,    requests_per_minute: 600, burst: 60 }',
        '    - { scope: tenant, tokens_per_minute: 200000 }',
        '    - { scope: model,  model: "gpt-*", requests_per_second: 50 }',
        '    - { scope: global, concurrent: 256 }',
      ].join('\n'),
    );
    const l = cfg.limits;
    assert.equal(l.redis?.url, ENV.REDIS_URL);
    assert.equal(l.redis?.keyPrefix, 'portcullis:');
    assert.equal(l.onBackendError, 'local_fallback');
    assert.deepEqual(
      l.rules.map((r) => r.id),
      ['key', 'tenant', 'model:gpt-*', 'global'],
    );
    assert.equal(l.rules[0]?.burst, 60);
    assert.equal(l.rules[2]?.requestsPerSecond, 50);
    assert.equal(l.rules[3]?.concurrent, 256);
  });

  it('accepts a literal URL without credentials', () => {
    assert.equal(
      parse('  backend: redis\n  redis: { url: "redis://127.0.0.1:6379" }').limits.redis?.url,
      'redis://127.0.0.1:6379',
    );
  });

  // Each case is one mistake: the path it is reported at and what the message says.
  const BAD: ReadonlyArray<readonly [string, string, string, RegExp]> = [
    [
      'negative rate',
      '  rules:\n    - { scope: key, requests_per_minute: -5 }',
      'limits.rules[0].requests_per_minute',
      /from 1 to 1000000000, got -5/,
    ],
    [
      'zero rate',
      '  rules:\n    - { scope: key, requests_per_second: 0 }',
      'limits.rules[0].requests_per_second',
      /got 0/,
    ],
    [
      'absurd rate (> 10^9)',
      '  rules:\n    - { scope: key, requests_per_minute: 2000000000 }',
      'limits.rules[0].requests_per_minute',
      /from 1 to 1000000000/,
    ],
    [
      'fractional rate',
      '  rules:\n    - { scope: key, requests_per_minute: 1.5 }',
      'limits.rules[0].requests_per_minute',
      /got 1.5/,
    ],
    [
      'rate as a string',
      '  rules:\n    - { scope: key, tokens_per_minute: "lots" }',
      'limits.rules[0].tokens_per_minute',
      /got a string/,
    ],
    [
      'zero tokens',
      '  rules:\n    - { scope: tenant, tokens_per_minute: 0 }',
      'limits.rules[0].tokens_per_minute',
      /got 0/,
    ],
    [
      'zero concurrency',
      '  rules:\n    - { scope: global, concurrent: 0 }',
      'limits.rules[0].concurrent',
      /from 1 to 1000000, got 0/,
    ],
    [
      'negative burst',
      '  rules:\n    - { scope: key, requests_per_minute: 10, burst: -1 }',
      'limits.rules[0].burst',
      /got -1/,
    ],
    [
      'burst without a request rate',
      '  rules:\n    - { scope: key, tokens_per_minute: 10, burst: 5 }',
      'limits.rules[0].burst',
      /requests_per_second or requests_per_minute/,
    ],
    [
      'burst with two request rates',
      '  rules:\n    - { scope: key, requests_per_second: 1, requests_per_minute: 10, burst: 5 }',
      'limits.rules[0].burst',
      /ambiguous/,
    ],
    ['rule with no limit', '  rules:\n    - { scope: key }', 'limits.rules[0]', /sets no limit/],
    [
      'unknown scope',
      '  rules:\n    - { scope: planet, concurrent: 1 }',
      'limits.rules[0].scope',
      /one of: key, user, team, tenant, model, route, global/,
    ],
    ['missing scope', '  rules:\n    - { concurrent: 1 }', 'limits.rules[0].scope', /is required/],
    [
      'model scope without a model',
      '  rules:\n    - { scope: model, concurrent: 1 }',
      'limits.rules[0].model',
      /required for scope model/,
    ],
    [
      'global rule with a model filter',
      '  rules:\n    - { scope: global, model: "x", concurrent: 1 }',
      'limits.rules[0].model',
      /use scope: model/,
    ],
    [
      'empty model pattern',
      '  rules:\n    - { scope: route, model: "", concurrent: 1 }',
      'limits.rules[0].model',
      /1 to 256 printable/,
    ],
    [
      'unknown rule key',
      '  rules:\n    - { scope: key, concurrent: 1, per_hour: 5 }',
      'limits.rules[0].per_hour',
      /unknown key 'per_hour'/,
    ],
    [
      'duplicate rule',
      '  rules:\n    - { scope: key, concurrent: 1 }\n    - { scope: key, requests_per_second: 1 }',
      'limits.rules[1]',
      /second rule for scope key.*limits.rules\[0\]/,
    ],
    ['unknown backend', '  backend: memcached', 'limits.backend', /one of: memory, redis/],
    ['redis backend without redis', '  backend: redis', 'limits.redis', /required when backend is redis/],
    [
      'redis settings with the memory backend',
      '  redis: { url: "redis://127.0.0.1" }',
      'limits.redis',
      /only used with backend: redis/,
    ],
    [
      'literal URL with a password',
      '  backend: redis\n  redis: { url: "redis://:hunter2@127.0.0.1:6379" }',
      'limits.redis.url',
      /must be a \$\{ENV_VAR\}/,
    ],
    [
      'not a redis URL',
      '  backend: redis\n  redis: { url: "http://127.0.0.1:6379" }',
      'limits.redis.url',
      /redis:\/\/ or rediss:\/\//,
    ],
    [
      'reference to a non-URL',
      '  backend: redis\n  redis: { url: "${NOT_A_URL}" }',
      'limits.redis.url',
      /referenced value is not a URL/,
    ],
    [
      'unset URL variable',
      '  backend: redis\n  redis: { url: "${NOPE_UNSET}" }',
      'limits.redis.url',
      /NOPE_UNSET is not set/,
    ],
    [
      'key prefix with a space',
      '  backend: redis\n  redis: { url: "redis://h", key_prefix: "a b" }',
      'limits.redis.key_prefix',
      /without spaces/,
    ],
    [
      'zero redis timeout',
      '  backend: redis\n  redis: { url: "redis://h", timeout_ms: 0 }',
      'limits.redis.timeout_ms',
      /from 1 to 60000/,
    ],
    [
      'unknown on_backend_error',
      '  on_backend_error: ignore',
      'limits.on_backend_error',
      /one of: fail_closed, local_fallback/,
    ],
    ['zero default_max_tokens', '  default_max_tokens: 0', 'limits.default_max_tokens', /from 1 to 10000000/],
    ['lease ttl below a second', '  lease_ttl_ms: 10', 'limits.lease_ttl_ms', /from 1000 to 3600000/],
  ];
  for (const [name, yaml, path, says] of BAD) {
    it(`rejects ${name} at ${path} (never clamped)`, () => {
      const found = problems(yaml);
      assert.ok(
        found.some((p) => p.path === path && says.test(p.message)),
        JSON.stringify(found),
      );
    });
  }

  it('never echoes the Redis URL or its password in a problem', () => {
    const found = problems('  backend: redis\n  redis: { url: "redis://:hunter2@127.0.0.1:6379", timeout_ms: -1 }');
    assert.ok(found.length >= 2);
    for (const p of found) assert.ok(!p.message.includes('hunter2') && !p.message.includes('127.0.0.1'), p.message);
  });
});
