import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../config/errors.ts';
import { loadConfig, parseConfig } from '../config/load.ts';
import { createTestPki, type TestPki } from '../tls/test-support.ts';
import {
  type Bootstrap,
  canonicalJson,
  composeConfig,
  diffPolicy,
  diffSha256,
  type PolicyDocument,
  parseStoredDocument,
  policySha256,
  readPolicyDocument,
  sha256Hex,
  splitConfigFile,
  splitConfigText,
} from './document.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ENV = {
  K: 'sk-test-key-value',
  REDIS: 'redis://127.0.0.1:6379',
  SECRET: 'x'.repeat(40),
};

const FILE = `
server: { host: 127.0.0.1, port: 8080 }
store: { driver: sqlite, path: ./data/p.db }
security: { data_dir: ./data }
policy: { require_approval: true }
providers:
  p:
    kind: openai
    base_url: https://api.openai.com/v1
    api_key: "\${K}"
models:
  m: { targets: [ { provider: p, model: x } ] }
limits:
  backend: redis
  redis: { url: "\${REDIS}", key_prefix: "p:" }
  rules:
    - { scope: key, requests_per_minute: 600 }
budgets:
  rules:
    - { name: b1, scope: team, period: day, amount_usd: 5 }
alerts:
  webhooks:
    - { id: soc, url: https://hooks.example.com/p, secret: "\${SECRET}" }
  dead_letter_path: ./dl.jsonl
`;

/** The config minus `source`, for comparing a composition with a direct load. */
function body(c: { source: string }): unknown {
  const { source: _s, ...rest } = c;
  return rest;
}

function problemsOf(fn: () => unknown): ConfigError['problems'] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

describe('splitting a config file', () => {
  it('puts the policy sections in the document and the rest (with limits.redis as redis) in the bootstrap', () => {
    const { bootstrap, document } = splitConfigText(FILE, '/etc/portcullis/p.yaml');
    assert.deepEqual(Object.keys(document).sort(), ['alerts', 'budgets', 'limits', 'models', 'providers']);
    assert.deepEqual(Object.keys(bootstrap.data).sort(), ['alerts', 'policy', 'redis', 'security', 'server', 'store']);
    assert.deepEqual(bootstrap.data.redis, { url: '${REDIS}', key_prefix: 'p:' });
    assert.equal('redis' in (document.limits as object), false);
    assert.deepEqual(bootstrap.data.alerts, { dead_letter_path: './dl.jsonl' });
    assert.equal(bootstrap.baseDir, '/etc/portcullis');
    // The secret reference stays a reference in the document.
    assert.equal((document.providers as Record<string, Record<string, string>>).p?.api_key, '${K}');
    assert.equal(canonicalJson(document).includes(ENV.K), false);
  });

  it('composes back to exactly the config the file loads to', () => {
    const direct = parseConfig(FILE, '/tmp/p.yaml', ENV, '/tmp');
    const { bootstrap, document } = splitConfigText(FILE, '/tmp/p.yaml', '/tmp');
    const valid = readPolicyDocument(canonicalJson(document), 'seed', bootstrap, ENV);
    assert.deepEqual(body(valid.config), body(direct));
    assert.equal(valid.config.source, '/tmp/p.yaml');
    assert.equal(valid.canonical, canonicalJson(document));
    assert.equal(valid.sha256, policySha256(document));
    assert.deepEqual(body(composeConfig(bootstrap, valid.canonical, ENV)), body(direct));
  });

  describe('every example config (and the deploy config) splits into a seed that validates', () => {
    const env = {
      OPENAI_API_KEY: 'sk-example-openai',
      ANTHROPIC_API_KEY: 'sk-ant-example',
      GEMINI_API_KEY: 'example-gemini',
      MISTRAL_API_KEY: 'example-mistral',
      DATABASE_URL: 'postgres://portcullis:pw@db.internal:5432/portcullis?sslmode=verify-full',
      PORTCULLIS_VAULT_URL: 'postgres://portcullis:pw@vault-db.internal:5432/portcullis_vault',
      REDIS_URL: 'rediss://:pw@redis.internal:6379',
      PORTCULLIS_KEY_HASH_SECRET: 'k'.repeat(48),
      PORTCULLIS_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
      PORTCULLIS_METRICS_TOKEN: 'm'.repeat(24),
      PORTCULLIS_AUDIT_SIGNING_KEY: generateKeyPairSync('ed25519')
        .privateKey.export({ format: 'pem', type: 'pkcs8' })
        .toString(),
    };
    const work = mkdtempSync(join(tmpdir(), 'pcl-policy-split-'));
    let pki: TestPki;
    before(async () => {
      pki = await createTestPki();
    });
    after(() => {
      pki?.cleanup();
      rmSync(work, { recursive: true, force: true });
    });
    const files = [
      ...readdirSync(join(ROOT, 'examples'))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => join('examples', f)),
      join('deploy', 'portcullis.yaml'),
    ];
    it('covers every example and the deploy config', () => assert.equal(files.length, 7));
    for (const rel of files) {
      it(rel, () => {
        let path = join(ROOT, rel);
        if (rel.endsWith('tls.yaml')) {
          const dir = join(work, 'tls-example');
          mkdirSync(join(dir, 'tls'), { recursive: true });
          copyFileSync(path, join(dir, 'tls.yaml'));
          writeFileSync(join(dir, 'tls', 'cert.pem'), pki.server.cert);
          writeFileSync(join(dir, 'tls', 'key.pem'), pki.server.key, { mode: 0o600 });
          writeFileSync(join(dir, 'tls', 'clients-ca.pem'), pki.ca.cert);
          path = join(dir, 'tls.yaml');
        }
        const direct = loadConfig(path, env);
        const { bootstrap, document } = splitConfigFile(path);
        const valid = readPolicyDocument(canonicalJson(document), `${rel} (seed)`, bootstrap, env);
        assert.deepEqual(body(valid.config), body(direct));
        for (const secret of Object.values(env)) assert.equal(valid.canonical.includes(secret), false);
      });
    }
  });

  it('keeps a file whose limits.redis sits next to a top-level redis in the policy, where it is refused', () => {
    const text = `redis: { url: "\${REDIS}" }\nlimits:\n  backend: redis\n  redis: { url: "\${REDIS}" }\n`;
    const { bootstrap, document } = splitConfigText(text, '/tmp/x.yaml');
    const problems = problemsOf(() => readPolicyDocument(canonicalJson(document), 'seed', bootstrap, ENV));
    assert.deepEqual(
      problems.map((p) => p.path),
      ['limits.redis'],
    );
  });

  it('reports a syntax error of the file as a ConfigError', () => {
    assert.throws(() => splitConfigText('server: [unclosed', '/tmp/x.yaml'), ConfigError);
    assert.throws(() => splitConfigText('- a list', '/tmp/x.yaml'), ConfigError);
  });
});

describe('reading a policy document', () => {
  const { bootstrap } = splitConfigText(FILE, '/tmp/p.yaml', '/tmp');

  it('reports every problem at once with line, column and path, and never a secret value', () => {
    const text = [
      'server: { port: 9 }', // 1: bootstrap section
      'providers:',
      '  p:',
      '    kind: openai',
      '    base_url: https://api.openai.com/v1',
      '    api_key: sk-live-literal-secret-0123456789', // 6: literal secret
      'models:',
      '  m: { targets: [ { provider: nowhere, model: x } ] }', // 8: unknown provider
      'limits:',
      '  redis: { url: "${REDIS}" }', // 10: bootstrap field
      '  rules:',
      '    - { scope: key, requests_per_minute: -1, colour: red }', // 12: out of range, unknown key
    ].join('\n');
    const err = (() => {
      try {
        readPolicyDocument(text, 'candidate.yaml', bootstrap, ENV);
      } catch (e) {
        return e as ConfigError;
      }
      assert.fail('expected a ConfigError');
    })();
    assert.ok(err instanceof ConfigError);
    const paths = err.problems.map((p) => p.path).sort();
    assert.deepEqual(paths, [
      'limits.redis',
      'limits.rules[0].colour',
      'limits.rules[0].requests_per_minute',
      'models.m.targets[0].provider',
      'providers.p.api_key',
      'server',
    ]);
    const line = (path: string) => err.problems.find((p) => p.path === path)?.line;
    assert.equal(line('server'), 1);
    assert.equal(line('providers.p.api_key'), 6);
    assert.equal(line('models.m.targets[0].provider'), 8);
    assert.equal(line('limits.redis'), 10);
    assert.equal(line('limits.rules[0].requests_per_minute'), 12);
    for (const p of err.problems) assert.equal(typeof p.column, 'number', p.path);
    assert.equal(err.message.includes('sk-live-literal-secret'), false);
  });

  it('refuses, does not clamp: a value one past the range is an error, not the maximum', () => {
    const problems = problemsOf(() =>
      readPolicyDocument('payload: { max_messages: 100001 }', 'c.yaml', bootstrap, ENV),
    );
    assert.match(problems[0]?.message ?? '', /from 1 to 100000, got 100001/);
  });

  it('accepts JSON and YAML forms of the same data with the same canonical text and hash', () => {
    const yaml = 'payload:\n  max_tools: 3\n  max_images: 1\n';
    const json = '{"payload":{"max_images":1,"max_tools":3}}';
    const a = readPolicyDocument(yaml, 'a.yaml', bootstrap, ENV);
    const b = readPolicyDocument(json, 'b.json', bootstrap, ENV);
    assert.equal(a.canonical, json);
    assert.equal(a.sha256, b.sha256);
    assert.equal(a.sha256, sha256Hex(json));
    assert.equal(a.config.payload.maxTools, 3);
    // Bootstrap settings come from the file: the document cannot change them.
    assert.equal(a.config.policy.requireApproval, true);
    assert.equal(a.config.server.port, 8080);
  });

  it('keeps `${…}` references in the document and resolves them per instance when composing', () => {
    const text = canonicalJson(splitConfigText(FILE, '/tmp/p.yaml').document);
    const here = composeConfig(bootstrap, text, ENV);
    assert.equal(here.providers.get('p')?.apiKey, ENV.K);
    const there = composeConfig(bootstrap, text, { ...ENV, K: 'sk-other-instance' });
    assert.equal(there.providers.get('p')?.apiKey, 'sk-other-instance');
    const problems = problemsOf(() => composeConfig(bootstrap, text, { REDIS: ENV.REDIS, SECRET: ENV.SECRET }));
    assert.deepEqual(
      problems.map((p) => p.path),
      ['providers.p.api_key'],
    );
  });

  it('treats an empty document as all defaults and refuses a document that is not a map', () => {
    const empty = readPolicyDocument('', 'empty.yaml', bootstrap, ENV);
    assert.equal(empty.canonical, '{}');
    assert.equal(empty.config.models.size, 0);
    assert.equal(empty.config.alerts.deadLetterPath, '/tmp/dl.jsonl');
    assert.throws(() => readPolicyDocument('[1, 2]', 'list.yaml', bootstrap, ENV), ConfigError);
  });

  it('puts bootstrap fields back into a document section that is present', () => {
    const v = readPolicyDocument('alerts: { max_attempts: 3 }', 'a.yaml', bootstrap, ENV);
    assert.equal(v.config.alerts.maxAttempts, 3);
    assert.equal(v.config.alerts.deadLetterPath, '/tmp/dl.jsonl');
    assert.deepEqual(v.document, { alerts: { max_attempts: 3 } });
  });

  it('refuses `${…}` references the file does not allow in policy, so a bootstrap secret cannot be sent to a provider', () => {
    assert.deepEqual(bootstrap.references, ['K', 'SECRET']);
    const text = [
      'providers:',
      '  evil:',
      '    kind: openai',
      '    base_url: https://collector.example.com/v1',
      '    api_key: "${REDIS}"',
      '    headers: { x-steal: "${file:/etc/portcullis/master.key}", x-ok: "${K}" }',
    ].join('\n');
    const problems = problemsOf(() => readPolicyDocument(text, 'c.yaml', bootstrap, ENV));
    assert.deepEqual(
      problems.map((p) => [p.path, p.line]),
      [
        ['providers.evil.api_key', 5],
        ['providers.evil.headers["x-steal"]', 6],
      ],
    );
    assert.match(problems[0]?.message ?? '', /policy\.allowed_references/);
    // Listed in policy.allowed_references: accepted.
    const allowing = splitConfigText(
      `${FILE.replace('policy: { require_approval: true }', 'policy: { require_approval: true, allowed_references: [NEW_KEY] }')}`,
      '/tmp/p.yaml',
      '/tmp',
    ).bootstrap;
    const v = readPolicyDocument(
      'providers: { q: { kind: openai, base_url: "https://api.openai.com/v1", api_key: "${NEW_KEY}" } }',
      'c.yaml',
      allowing,
      { ...ENV, NEW_KEY: 'sk-new-key-value-0123' },
    );
    assert.equal(v.config.providers.get('q')?.apiKey, 'sk-new-key-value-0123');
  });

  it('cannot switch the two-person rule off: the policy section itself is bootstrap', () => {
    const problems = problemsOf(() =>
      readPolicyDocument('policy:\n  require_approval: false\n', 'sneaky.yaml', bootstrap, ENV),
    );
    assert.deepEqual(
      problems.map((p) => [p.path, p.line]),
      [['policy', 1]],
    );
  });

  it('refuses bootstrap settings in a demo-like bootstrap too (no file, `<demo>` source)', () => {
    const demo: Bootstrap = { data: { server: { port: 1 } }, source: '<demo>', baseDir: '/tmp' };
    const problems = problemsOf(() => readPolicyDocument('store: { driver: sqlite }', 'x', demo, ENV));
    assert.deepEqual(
      problems.map((p) => p.path),
      ['store'],
    );
  });
});

describe('canonical form and diff', () => {
  it('sorts keys at every level, keeps list order, and drops nothing else', () => {
    assert.equal(canonicalJson({ b: [3, { z: 1, a: null }], a: 'é' }), '{"a":"é","b":[3,{"a":null,"z":1}]}');
    const doc: PolicyDocument = { limits: { rules: [{ scope: 'key', requests_per_minute: 5 }] } };
    assert.deepEqual(parseStoredDocument(canonicalJson(doc)), doc);
    assert.throws(() => parseStoredDocument('[1]'), TypeError);
  });

  it('diffs by path: added, removed, changed, lists by index, a type change as one change', () => {
    const a: PolicyDocument = {
      limits: { rules: [{ scope: 'key', requests_per_minute: 600 }] },
      payload: { max_tools: 3 },
      models: { m: { targets: [{ provider: 'p', model: 'x' }] } },
    };
    const b: PolicyDocument = {
      limits: {
        rules: [
          { scope: 'key', requests_per_minute: 60 },
          { scope: 'tenant', concurrent: 5 },
        ],
      },
      models: { m: { targets: 'p/x' }, 'gpt-4o': { targets: [] } },
    };
    assert.deepEqual(diffPolicy(a, b), [
      { path: 'limits.rules[0].requests_per_minute', kind: 'changed', before: 600, after: 60 },
      { path: 'limits.rules[1]', kind: 'added', after: { scope: 'tenant', concurrent: 5 } },
      { path: 'models["gpt-4o"]', kind: 'added', after: { targets: [] } },
      { path: 'models.m.targets', kind: 'changed', before: [{ provider: 'p', model: 'x' }], after: 'p/x' },
      { path: 'payload', kind: 'removed', before: { max_tools: 3 } },
    ]);
    assert.deepEqual(diffPolicy(a, a), []);
    assert.notEqual(diffSha256(diffPolicy(a, b)), diffSha256(diffPolicy(b, a)));
    assert.equal(diffSha256([]), sha256Hex('[]'));
  });
});
