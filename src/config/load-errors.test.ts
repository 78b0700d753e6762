import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from './errors.ts';
import { parseConfig } from './load.ts';

const P = 'providers: { p: { kind: openai, base_url: "https://api.example.com/v1", api_key: "${K}" } }';
const ENV = { K: 'k-value' };

interface BadCase {
  readonly name: string;
  readonly yaml: string;
  readonly path: string;
  readonly line: number;
  readonly says: RegExp;
}

// Line numbers are 1-based positions in `yaml`; each case is one mistake.
const CASES: readonly BadCase[] = [
  {
    name: 'unknown top-level key',
    yaml: 'serverr: {}',
    path: 'serverr',
    line: 1,
    says: /unknown key 'serverr'.*server, store/,
  },
  {
    name: 'unknown nested key',
    yaml: 'server:\n  port: 1\n  colour: red',
    path: 'server.colour',
    line: 3,
    says: /unknown key 'colour'/,
  },
  {
    name: 'port out of range',
    yaml: 'server:\n  port: 65536',
    path: 'server.port',
    line: 2,
    says: /integer from 0 to 65535, got 65536/,
  },
  {
    name: 'port as a string',
    yaml: 'server:\n  port: "8080"',
    path: 'server.port',
    line: 2,
    says: /integer.*got a string/,
  },
  {
    name: 'fractional limit',
    yaml: 'server:\n  max_body_bytes: 2048.5',
    path: 'server.max_body_bytes',
    line: 2,
    says: /got 2048.5/,
  },
  {
    name: 'body limit too small (never clamped)',
    yaml: 'server: { max_body_bytes: 10 }',
    path: 'server.max_body_bytes',
    line: 1,
    says: /from 1024 to 67108864/,
  },
  {
    name: 'json depth too deep',
    yaml: 'server: { max_json_depth: 1000 }',
    path: 'server.max_json_depth',
    line: 1,
    says: /from 2 to 256/,
  },
  {
    name: 'headers timeout above request timeout',
    yaml: 'server:\n  request_timeout_ms: 1000\n  headers_timeout_ms: 2000',
    path: 'server.headers_timeout_ms',
    line: 3,
    says: /request_timeout_ms \(1000\)/,
  },
  {
    name: 'idle memory release period too short',
    yaml: 'server:\n  release_memory_when_idle_ms: 500',
    path: 'server.release_memory_when_idle_ms',
    line: 2,
    says: /0 \(off\) or at least 1000/,
  },
  {
    name: 'bad trusted proxy',
    yaml: 'server:\n  trusted_proxies:\n    - 10.0.0.0/33',
    path: 'server.trusted_proxies[0]',
    line: 3,
    says: /CIDR/,
  },
  { name: 'section is not a map', yaml: 'server: [1, 2]', path: 'server', line: 1, says: /expected a map, got a list/ },
  { name: 'providers is null', yaml: 'providers:', path: 'providers', line: 1, says: /expected a map, got null/ },
  {
    name: 'unknown store driver',
    yaml: 'store:\n  driver: mysql',
    path: 'store.driver',
    line: 2,
    says: /one of: sqlite/,
  },
  {
    name: 'unknown log level',
    yaml: 'logging: { level: loud }',
    path: 'logging.level',
    line: 1,
    says: /one of: fatal/,
  },
  {
    name: 'reference outside a secret field',
    yaml: 'store: { path: "${HOME}/db" }',
    path: 'store.path',
    line: 1,
    says: /only allowed in api_key/,
  },
  {
    name: 'provider kind unknown',
    yaml: 'providers:\n  p:\n    kind: cohere\n    base_url: https://x.example',
    path: 'providers.p.kind',
    line: 3,
    says: /one of: openai, openai-compatible/,
  },
  {
    name: 'provider kind missing',
    yaml: 'providers:\n  p:\n    base_url: https://x.example',
    path: 'providers.p.kind',
    line: 3,
    says: /is required/,
  },
  {
    name: 'plain http base_url',
    yaml: 'providers:\n  p:\n    kind: openai\n    base_url: http://api.example.com/v1',
    path: 'providers.p.base_url',
    line: 4,
    says: /must use https.*allow_private_network: true/,
  },
  {
    name: 'base_url with credentials',
    yaml: 'providers:\n  p: { kind: openai, base_url: "https://u:pw@x.example/v1" }',
    path: 'providers.p.base_url',
    line: 2,
    says: /credentials/,
  },
  {
    name: 'base_url with query',
    yaml: 'providers:\n  p: { kind: openai, base_url: "https://x.example/v1?a=1" }',
    path: 'providers.p.base_url',
    line: 2,
    says: /query/,
  },
  {
    name: 'base_url with fragment',
    yaml: 'providers:\n  p: { kind: openai, base_url: "https://x.example/v1#f" }',
    path: 'providers.p.base_url',
    line: 2,
    says: /fragment/,
  },
  {
    name: 'base_url relative',
    yaml: 'providers:\n  p: { kind: openai, base_url: "/v1" }',
    path: 'providers.p.base_url',
    line: 2,
    says: /absolute/,
  },
  {
    name: 'base_url on a private address',
    yaml: 'providers:\n  p: { kind: openai, base_url: "https://10.1.2.3/v1" }',
    path: 'providers.p.base_url',
    line: 2,
    says: /private address/,
  },
  {
    name: 'literal api_key',
    yaml: 'providers:\n  p:\n    kind: openai\n    base_url: https://x.example\n    api_key: sk-abc',
    path: 'providers.p.api_key',
    line: 5,
    says: /must be \$\{ENV_VAR\} or \$\{file:/,
  },
  {
    name: 'empty api_key',
    yaml: 'providers:\n  p: { kind: openai, base_url: "https://x.example", api_key: "" }',
    path: 'providers.p.api_key',
    line: 2,
    says: /references, not literal/,
  },
  {
    name: 'unset env var',
    yaml: 'providers:\n  p: { kind: openai, base_url: "https://x.example", api_key: "${NOPE_UNSET}" }',
    path: 'providers.p.api_key',
    line: 2,
    says: /environment variable NOPE_UNSET is not set/,
  },
  {
    name: 'unreadable secret file',
    yaml: 'providers:\n  p: { kind: openai, base_url: "https://x.example", api_key: "${file:/nonexistent/portcullis-key}" }',
    path: 'providers.p.api_key',
    line: 2,
    says: /cannot read secret file \/nonexistent\/portcullis-key \(ENOENT\)/,
  },
  {
    name: 'managed header',
    yaml: 'providers:\n  p:\n    kind: openai\n    base_url: https://x.example\n    headers:\n      Host: evil.example',
    path: 'providers.p.headers.Host',
    line: 6,
    says: /set by the gateway/,
  },
  {
    name: 'literal credential header',
    yaml: 'providers:\n  p:\n    kind: openai\n    base_url: https://x.example\n    headers:\n      Authorization: Bearer abc',
    path: 'providers.p.headers.Authorization',
    line: 6,
    says: /credential headers/,
  },
  {
    name: 'header value with CR/LF',
    yaml: 'providers:\n  p:\n    kind: openai\n    base_url: https://x.example\n    headers:\n      X-A: "a\\r\\nX-B: b"',
    path: 'providers.p.headers["X-A"]',
    line: 6,
    says: /control characters/,
  },
  {
    name: 'bad provider id',
    yaml: 'providers:\n  "has space": { kind: openai, base_url: "https://x.example" }',
    path: 'providers["has space"]',
    line: 2,
    says: /provider ids/,
  },
  {
    name: 'model without targets',
    yaml: `${P}\nmodels:\n  m:\n    type: chat`,
    path: 'models.m.targets',
    line: 4,
    says: /at least one target/,
  },
  {
    name: 'empty target list',
    yaml: `${P}\nmodels:\n  m:\n    targets: []`,
    path: 'models.m.targets',
    line: 4,
    says: /at least one target/,
  },
  {
    name: 'unknown target provider',
    yaml: `${P}\nmodels:\n  m:\n    targets:\n      - { provider: q, model: x }`,
    path: 'models.m.targets[0].provider',
    line: 5,
    says: /unknown provider 'q' \(defined: p\)/,
  },
  {
    name: 'weight out of range',
    yaml: `${P}\nmodels:\n  "gpt-4o":\n    targets:\n      - provider: p\n        model: x\n        weight: 1001`,
    path: 'models["gpt-4o"].targets[0].weight',
    line: 7,
    says: /from 0 to 1000, got 1001/,
  },
  {
    name: 'all weights zero in a group',
    yaml: `${P}\nmodels:\n  m:\n    targets:\n      - { provider: p, model: x, weight: 0 }`,
    path: 'models.m.targets',
    line: 5,
    says: /priority 0 all have weight 0/,
  },
  {
    name: 'attempt timeout above deadline',
    yaml: `${P}\nmodels:\n  m:\n    targets: [{ provider: p, model: x }]\n    timeout_ms: 1000\n    attempt_timeout_ms: 5000`,
    path: 'models.m.attempt_timeout_ms',
    line: 6,
    says: /timeout_ms \(1000\)/,
  },
  {
    name: 'timeout above an hour',
    yaml: `${P}\nmodels:\n  m:\n    targets: [{ provider: p, model: x }]\n    timeout_ms: 3600001`,
    path: 'models.m.timeout_ms',
    line: 5,
    says: /from 1 to 3600000/,
  },
  {
    name: 'too many attempts',
    yaml: `${P}\nmodels:\n  m:\n    targets: [{ provider: p, model: x }]\n    retry:\n      max_attempts: 11`,
    path: 'models.m.retry.max_attempts',
    line: 6,
    says: /from 1 to 10/,
  },
  {
    name: 'max delay below base delay',
    yaml: `${P}\nmodels:\n  m:\n    targets: [{ provider: p, model: x }]\n    retry: { base_delay_ms: 500, max_delay_ms: 100 }`,
    path: 'models.m.retry.max_delay_ms',
    line: 5,
    says: /base_delay_ms \(500\)/,
  },
  {
    name: 'breaker threshold zero',
    yaml: `${P}\nmodels:\n  m:\n    targets: [{ provider: p, model: x }]\n    circuit_breaker: { failure_threshold: 0 }`,
    path: 'models.m.circuit_breaker.failure_threshold',
    line: 5,
    says: /from 1 to 1000/,
  },
  {
    name: 'unsupported_params value',
    yaml: `${P}\nmodels:\n  m:\n    targets: [{ provider: p, model: x }]\n    unsupported_params: ignore`,
    path: 'models.m.unsupported_params',
    line: 5,
    says: /one of: reject, drop/,
  },
  {
    name: 'model name with spaces',
    yaml: `${P}\nmodels:\n  "my model": { targets: [{ provider: p, model: x }] }`,
    path: 'models["my model"]',
    line: 3,
    says: /printable/,
  },
  {
    name: 'model name too long',
    yaml: `${P}\nmodels:\n  ${'m'.repeat(257)}: { targets: [{ provider: p, model: x }] }`,
    path: `models.${'m'.repeat(257)}`,
    line: 3,
    says: /1\.\.256/,
  },
  {
    name: 'target key typo',
    yaml: `${P}\nmodels:\n  m:\n    targets:\n      - { provider: p, modle: x }`,
    path: 'models.m.targets[0].modle',
    line: 5,
    says: /unknown key 'modle'/,
  },
  {
    name: 'duplicate key',
    yaml: 'server:\n  port: 1\n  port: 2',
    path: '',
    line: 3,
    says: /YAML syntax: Map keys must be unique/,
  },
  {
    name: 'unquoted reference in a flow map',
    yaml: 'security: { key_hash_secret: ${KHS}, data_dir: ./data }',
    path: '',
    line: 1,
    says: /hint: quote \$\{…\} references/,
  },
  { name: 'empty file', yaml: '', path: '', line: 0, says: /file is empty/ },
  {
    name: 'numeric key',
    yaml: `${P}\nmodels:\n  4: { targets: [{ provider: p, model: x }] }`,
    path: 'models',
    line: 3,
    says: /keys must be strings/,
  },
];

function problemsOf(yaml: string): ConfigError {
  try {
    parseConfig(yaml, '/etc/portcullis/gw.yaml', ENV);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('the config was accepted');
}

describe('parseConfig rejects bad files, naming path and line', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const err = problemsOf(c.yaml);
      const hit = err.problems.find((p) => p.path === c.path && c.says.test(p.message));
      assert.ok(hit, `no problem at ${c.path} matching ${c.says}; got:\n${err.message}`);
      if (c.line > 0) {
        assert.equal(hit.line, c.line, err.message);
        assert.ok(err.message.includes(`/etc/portcullis/gw.yaml:${c.line}:`), err.message);
      }
      if (c.path !== '') assert.ok(err.message.includes(`${c.path}: `), 'the message names the document path');
    });
  }

  it('reports every problem at once, in line order', () => {
    const err = problemsOf('server:\n  port: -1\n  max_json_depth: 0\nlogging: { level: nope }\nextra: 1');
    assert.deepEqual(err.problems.map((p) => p.path).sort(), [
      'extra',
      'logging.level',
      'server.max_json_depth',
      'server.port',
    ]);
    assert.match(err.message, /\(4 problems\)/);
    const lines = err.message
      .split('\n')
      .slice(1)
      .map((l) => Number(/gw\.yaml:(\d+):/.exec(l)?.[1]));
    assert.deepEqual(
      lines,
      [...lines].sort((a, b) => a - b),
    );
  });

  it('accepts http and private addresses when allow_private_network is true', () => {
    const cfg = parseConfig(
      'providers:\n  l: { kind: openai-compatible, base_url: "http://localhost:8000/v1", allow_private_network: true }',
      '<t>',
      {},
    );
    assert.equal(cfg.providers.get('l')?.baseUrl, 'http://localhost:8000/v1');
  });
});
