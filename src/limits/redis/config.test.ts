import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkConfigFile } from '../../config/check.ts';
import { ConfigError } from '../../config/errors.ts';
import { parseConfig } from '../../config/load.ts';

const ENV = { REDIS_URL: 'redis://:s3cret-pass@10.0.0.7:6379/0' };

function problems(text: string): Array<{ path: string; message: string }> {
  try {
    parseConfig(text, '<test>', ENV);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => ({ path: p.path, message: p.message }));
    throw err;
  }
  return [];
}

describe('the shared redis section', () => {
  it('is absent by default', () => {
    assert.equal(parseConfig('server: { port: 0 }', '<test>', ENV).redis, undefined);
  });

  it('serves both revocation broadcasts and the Redis limit backend', () => {
    const cfg = parseConfig(
      'redis: { url: "${REDIS_URL}", key_prefix: "edge:", timeout_ms: 250 }\nlimits:\n  backend: redis\n',
      '<test>',
      ENV,
    );
    assert.deepEqual(cfg.redis, { url: ENV.REDIS_URL, keyPrefix: 'edge:', timeoutMs: 250 });
    assert.deepEqual(cfg.limits.redis, cfg.redis);
  });

  it('may be used with in-memory limits (revocation broadcasts only)', () => {
    const cfg = parseConfig('redis: { url: "redis://127.0.0.1:6379" }\n', '<test>', ENV);
    assert.equal(cfg.redis?.keyPrefix, 'portcullis:');
    assert.equal(cfg.limits.backend, 'memory');
    assert.equal(cfg.limits.redis, undefined);
  });

  it('keeps the older limits.redis form working, as the shared connection too', () => {
    const cfg = parseConfig(
      'limits:\n  backend: redis\n  redis: { url: "redis://127.0.0.1:6379", key_prefix: "old:" }\n',
      '<test>',
      ENV,
    );
    assert.equal(cfg.limits.redis?.keyPrefix, 'old:');
    assert.deepEqual(cfg.redis, cfg.limits.redis);
  });

  it('rejects the connection given twice, a bad URL, a literal password and unknown keys, naming the path', () => {
    assert.deepEqual(
      problems(
        'redis: { url: "redis://127.0.0.1:6379" }\nlimits:\n  backend: redis\n  redis: { url: "redis://127.0.0.1:6379" }\n',
      ).map((p) => p.path),
      ['limits.redis'],
    );
    const bad = problems('redis: { url: "http://127.0.0.1:6379", verbose: true }\n');
    assert.deepEqual(bad.map((p) => p.path).sort(), ['redis.url', 'redis.verbose']);
    const literal = problems('redis: { url: "redis://:hunter2@127.0.0.1:6379" }\n');
    assert.equal(literal[0]?.path, 'redis.url');
    assert.ok(!JSON.stringify(literal).includes('hunter2'), 'the password is not echoed');
    assert.equal(problems('limits:\n  backend: redis\n')[0]?.path, 'limits.redis');
    assert.equal(problems('redis: { key_prefix: "x:" }\n')[0]?.path, 'redis.url');
  });

  it('config check names the Redis host and what it carries, never the password', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pcl-redis-'));
    try {
      const file = join(dir, 'p.yaml');
      writeFileSync(
        file,
        'redis: { url: "${REDIS_URL}" }\nlimits:\n  backend: redis\n  rules:\n    - { scope: key, requests_per_minute: 60 }\n',
      );
      const r = checkConfigFile(file, ENV);
      assert.equal(r.ok, true, r.text);
      assert.match(
        r.text,
        /redis: +redis:\/\/10\.0\.0\.7:6379 prefix "portcullis:" \(revocation broadcasts, limit counters\)/,
      );
      assert.match(r.text, /limits: +1 rule\(s\), counters in Redis \(shared\)/);
      assert.ok(!r.text.includes('s3cret-pass'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
