import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PAYLOAD_DEFAULTS } from '../stages/validate/config.ts';
import { ConfigError } from './errors.ts';
import { loadConfig, parseConfig } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FULL = `
server: { host: 0.0.0.0, port: 9090, trusted_proxies: [10.0.0.0/8, "::1"] }
store: { path: db/gw.sqlite }
security: { key_hash_secret: "\${file:secrets/khs}", data_dir: state }
logging: { level: debug }
providers:
  openai:
    kind: openai
    base_url: https://api.openai.com/v1/
    api_key: \${OPENAI_API_KEY}
    headers: { OpenAI-Organization: org-123, X-Trace: "t-\${TRACE_ID}" }
  local:
    kind: openai-compatible
    base_url: http://127.0.0.1:11434/v1
    allow_private_network: true
    max_connections: 8
models:
  gpt-4o:
    targets:
      - { provider: openai, model: gpt-4o-2024-08-06, weight: 3 }
      - { provider: local, model: llama3, priority: 1 }
    timeout_ms: 20000
    retry: { max_attempts: 3 }
    circuit_breaker: { open_ms: 1000 }
    unsupported_params: drop
  embed-small:
    type: embeddings
    targets: [{ provider: openai, model: text-embedding-3-small }]
`;
const ENV = { OPENAI_API_KEY: 'sk-test-abc', TRACE_ID: 'xyz' };

describe('parseConfig (valid files)', () => {
  it('applies every default to a minimal file', () => {
    const cfg = parseConfig('logging: { level: info }\n', join(dir, 'min.yaml'), {});
    assert.deepEqual(cfg.server, {
      host: '127.0.0.1',
      port: 8080,
      maxBodyBytes: 1_048_576,
      maxJsonDepth: 32,
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5_000,
      writeStallTimeoutMs: 30_000,
      shutdownGraceMs: 15_000,
      trustedProxies: [],
      maxConnections: 4096,
      maxInFlight: 1024,
      maxRequestsPerSocket: 10_000,
      releaseMemoryWhenIdleMs: 300_000,
    });
    assert.deepEqual(cfg.store, { driver: 'sqlite', path: join(dir, 'data', 'portcullis.db') });
    assert.deepEqual(cfg.security, { keyHashSecret: undefined, dataDir: join(dir, 'data') });
    assert.equal(cfg.logging.level, 'info');
    assert.deepEqual(cfg.payload, PAYLOAD_DEFAULTS);
    assert.equal(cfg.providers.size, 0);
    assert.equal(cfg.models.size, 0);
  });

  it('reads a full file from disk, resolving secrets, paths and route defaults', () => {
    const secretDir = join(dir, 'secrets');
    mkdirSync(secretDir, { recursive: true });
    writeFileSync(join(secretDir, 'khs'), `${'k'.repeat(40)}\n`);
    const file = join(dir, 'full.yaml');
    writeFileSync(file, FULL);
    const cfg = loadConfig(file, ENV);
    assert.equal(cfg.source, file);
    assert.equal(cfg.server.port, 9090);
    assert.deepEqual(cfg.server.trustedProxies, ['10.0.0.0/8', '::1']);
    assert.deepEqual(cfg.store, { driver: 'sqlite', path: join(dir, 'db', 'gw.sqlite') });
    assert.equal(cfg.security.dataDir, join(dir, 'state'));
    assert.equal(cfg.security.keyHashSecret, 'k'.repeat(40), 'trailing newline of the secret file is trimmed');
    const openai = cfg.providers.get('openai');
    assert.deepEqual(openai, {
      id: 'openai',
      kind: 'openai',
      baseUrl: 'https://api.openai.com/v1',
      apiKey: 'sk-test-abc',
      headers: { 'OpenAI-Organization': 'org-123', 'X-Trace': 't-xyz' },
      // What the header's reference resolved to: scrubbed from provider text and log lines like the api key.
      headerSecrets: ['xyz'],
      allowPrivateNetwork: false,
      maxConnections: 64,
      connectTimeoutMs: 5000,
    });
    assert.equal(cfg.providers.get('local')?.apiKey, undefined);
    const route = cfg.models.get('gpt-4o');
    assert.ok(route);
    assert.equal(route.type, 'chat');
    assert.deepEqual(route.targets, [
      { provider: 'openai', model: 'gpt-4o-2024-08-06', weight: 3, priority: 0 },
      { provider: 'local', model: 'llama3', weight: 1, priority: 1 },
    ]);
    assert.equal(route.timeoutMs, 20_000);
    assert.equal(route.attemptTimeoutMs, 20_000, 'attempt timeout defaults to at most the route deadline');
    assert.deepEqual(route.retry, { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 5000, maxRetryAfterMs: 10_000 });
    assert.deepEqual(route.circuitBreaker, { failureThreshold: 5, openMs: 1000 });
    assert.equal(route.unsupportedParams, 'drop');
    assert.equal(route.ownedBy, 'portcullis');
    assert.equal(cfg.models.get('embed-small')?.type, 'embeddings');
    assert.equal(cfg.models.get('embed-small')?.attemptTimeoutMs, 30_000);
  });

  it('returns a deeply frozen result, maps included', () => {
    const cfg = parseConfig(FULL.replace('file:secrets/khs', 'KHS'), join(dir, 'x.yaml'), {
      ...ENV,
      KHS: 'q'.repeat(32),
    });
    assert.throws(() => {
      (cfg.server as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (cfg.server.trustedProxies as string[]).push('1.1.1.1');
    }, TypeError);
    assert.throws(() => (cfg.models as Map<string, unknown>).set('evil', {}), TypeError);
    assert.throws(() => (cfg.providers as Map<string, unknown>).delete('openai'), TypeError);
    const headers = cfg.providers.get('openai')?.headers as Record<string, string>;
    assert.throws(() => {
      headers['X-New'] = 'v';
    }, TypeError);
    assert.equal(cfg.providers.size, 2);
  });

  it('accepts anchors and aliases for shared blocks', () => {
    const cfg = parseConfig(
      `
providers: { p: { kind: openai, base_url: "https://x.example/v1", api_key: "\${K}" } }
models:
  a: { targets: [{ provider: p, model: m }], retry: &r { max_attempts: 4 } }
  b: { targets: [{ provider: p, model: m }], retry: *r }
`,
      '<test>',
      { K: 'k' },
    );
    assert.equal(cfg.models.get('b')?.retry.maxAttempts, 4);
  });

  it('allows port 0 (tests ask the OS for a free port)', () => {
    assert.equal(parseConfig('server: { port: 0 }', '<test>', {}).server.port, 0);
  });
});

describe('loadConfig (file errors)', () => {
  it('names a missing file', () => {
    const missing = join(dir, 'nope.yaml');
    assert.throws(
      () => loadConfig(missing, {}),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /nope\.yaml/);
        assert.match(err.message, /ENOENT/);
        return true;
      },
    );
  });
});
