/**
 * The declared keys (keys.ts, `*.keys.ts`) are what the readers accept, and the reference in
 * docs/configuration.md and docs/config.schema.json are what is declared:
 * - the generated files are in sync with the declaration;
 * - every map the readers open, they open with exactly the declared keys (a key accepted but
 *   undocumented, or documented but refused, fails), and every declared map is opened;
 * - every declared numeric range is the reader's: one past either end is refused at that path,
 *   the ends themselves are not; every declared choice (enum) is accepted, anything else refused;
 * - the JSON Schema accepts the full configs below and refuses a misspelt key.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseDocument } from 'yaml';
import { ConfigError } from './errors.ts';
import { configFileSpec, type KeySpec } from './keys.ts';
import { parseConfig } from './load.ts';
import { ConfigReader, childPath } from './reader.ts';
import {
  CONFIG_DOC_PATH,
  CONFIG_SCHEMA_PATH,
  referenceRows,
  renderConfigDoc,
  renderJsonSchema,
} from './render-reference.ts';
import { schemaViolations } from './test-schema.ts';

const ENV = {
  K: 'sk-test-key',
  PG: 'postgres://u@127.0.0.1:5432/db',
  PG2: 'postgres://u@127.0.0.1:5432/vault',
  SECRET: 'x'.repeat(40),
  REDIS: 'redis://127.0.0.1:6379',
};

/** Every section of the file, with every list and map holding one entry (redis top-level). */
const FULL_A = `
server:
  host: 127.0.0.1
  port: 8080
  max_body_bytes: 1048576
  max_json_depth: 32
  request_timeout_ms: 3600000
  headers_timeout_ms: 1
  keep_alive_timeout_ms: 5000
  write_stall_timeout_ms: 30000
  shutdown_grace_ms: 15000
  trusted_proxies: [10.0.0.0/8]
  max_connections: 4096
  max_in_flight: 1024
  max_requests_per_socket: 10000
  release_memory_when_idle_ms: 300000
  tls: { cert_file: server.crt, key_file: server.key, min_version: TLSv1.3, hsts_max_age_s: 0, hsts_include_subdomains: false, client_auth: optional, client_ca_file: ca.crt, reload: true }
store: { driver: sqlite, path: ./data/p.db }
security:
  key_hash_secret: "\${SECRET}"
  data_dir: ./data
  tenant_keys: { vault: file, path: ./tk }
logging: { level: info, format: json }
payload: { max_messages: 10, max_prompt_chars: 10, max_output_tokens: 10, max_images: 1, max_image_bytes: 10, max_tools: 1, max_embedding_inputs: 1 }
payload_log: { enabled: true, retention_days: 30, redact: ["x+"] }
audit: { path: ./audit.db, checkpoint_every: 1000, checkpoint_interval_ms: 60000, retention_days: 90, writer: thread, durability: relaxed, flush_interval_ms: 1000 }
metrics: { enabled: true, host: 127.0.0.1, port: 9464 }
tracing:
  enabled: true
  endpoint: http://127.0.0.1:4318/v1/traces
  headers: { x-tenant: acme }
  service_name: portcullis
  sample_ratio: 1
  max_queue_spans: 100000
  max_batch_spans: 1
  flush_interval_ms: 1000
  export_timeout_ms: 5000
providers:
  p:
    kind: openai
    base_url: https://api.openai.com/v1
    api_key: "\${K}"
    headers: { x-org: acme }
    allow_private_network: false
    max_connections: 64
    connect_timeout_ms: 5000
    tls: { ca_file: ca.crt, ca_only: false, pin_sha256: [] }
models:
  m:
    type: chat
    targets: [ { provider: p, model: x, weight: 1, priority: 0 } ]
    timeout_ms: 3600000
    attempt_timeout_ms: 1
    retry: { max_attempts: 2, base_delay_ms: 0, max_delay_ms: 3600000, max_retry_after_ms: 1000 }
    circuit_breaker: { failure_threshold: 5, open_ms: 1000 }
    unsupported_params: reject
    owned_by: me
auth:
  api_keys: { enabled: true }
  jwt:
    issuers:
      - issuer: https://idp.example.com
        jwks_url: https://idp.example.com/jwks
        audience: portcullis
        algorithms: [RS256]
        clock_skew_s: 30
        allow_private_network: false
        claims: { tenant: tenant, team: team, user: sub, models: models, scope: scope }
        default_models: []
        jwks_refresh_min_interval_s: 1
        jwks_cache_ttl_s: 86400
        typ: at+jwt
  lockout: { enabled: true, threshold: 10, window: 10m, base_lockout: 1m, max_lockout: 1h, max_subjects: 100000 }
  client_certificates:
    - { fingerprint_sha256: "${'AB'.repeat(32)}", tenant: acme, team: t, label: svc, allowed_models: ["*"], mode: identity }
oauth_server: { enabled: true, issuer: https://gw.example.com, audience: portcullis, token_ttl_s: 600, signing_algorithm: ES256, clock_skew_s: 30, assertion_max_lifetime_s: 300, key_refresh_interval_s: 60 }
redis: { url: "\${REDIS}", key_prefix: "p:", timeout_ms: 1000 }
limits:
  backend: redis
  on_backend_error: fail_closed
  default_max_tokens: 1024
  lease_ttl_ms: 30000
  rules:
    - { scope: key, requests_per_minute: 600, burst: 60, tokens_per_minute: 1000, concurrent: 5 }
threat_detection:
  enabled: true
  max_tracked_subjects: 10000
  rules:
    brute_force: { enabled: true, action: throttle, severity: warning, duration_s: 900, throttle_requests_per_minute: 6, threshold: 10, window_s: 60 }
    credential_stuffing: { action: throttle, severity: critical, duration_s: 900, throttle_requests_per_minute: 6, distinct_keys: 5, window_s: 300 }
    new_network: { action: throttle, severity: critical, duration_s: 900, throttle_requests_per_minute: 6, history_s: 600, min_history_requests: 20, max_networks_per_key: 32 }
    usage_spike: { action: throttle, severity: critical, duration_s: 900, throttle_requests_per_minute: 6, window_s: 60, factor: 5, min_requests: 60, baseline_windows: 10, warmup_windows: 10 }
    repeated_refusals: { action: throttle, severity: critical, duration_s: 900, throttle_requests_per_minute: 6, threshold: 20, window_s: 300 }
    revoked_key: { action: throttle, severity: critical, duration_s: 900, throttle_requests_per_minute: 6, threshold: 1, window_s: 3600 }
    guard_violations: { action: throttle, severity: critical, duration_s: 900, throttle_requests_per_minute: 6, threshold: 10, window_s: 300 }
guardrails:
  enabled: true
  policies:
    - name: p1
      match: { models: ["*"], tenants: [acme], teams: [t], keys: [key_1] }
      detectors:
        - { detector: injection, on: [input], action: block, on_error: block, threshold: 0.5 }
        - { detector: pii, action: redact, types: [EMAIL] }
        - { detector: secrets, action: block, provider_keys: true }
        - { detector: deny_list, name: words, patterns: ["foo[0-9]+"], keywords: [bar], case_sensitive: false, action: flag }
alerts:
  webhooks:
    - { id: soc, url: https://hooks.example.com/p, secret: "\${SECRET}", min_severity: warning, events: ["threat.*"], allow_private_network: false }
  max_attempts: 6
  retry_base_ms: 1
  retry_max_ms: 86400000
  timeout_ms: 5000
  queue_size: 1000
  dead_letter_path: ./dl.jsonl
pricing:
  version: v1
  effective_date: "2026-01-01"
  models:
    - { provider: p, model: x, input_per_1m: 1, output_per_1m: 2, cached_input_per_1m: 0.5, cache_write_per_1m: 1.25, cache_write_1h_per_1m: 2 }
budgets:
  backend: redis
  on_backend_error: fail_closed
  default_max_tokens: 4096
  rules:
    - { name: b1, scope: team, subject: t, model: "*", period: { start: "2026-01-01T00:00:00Z", length: 36h }, amount_usd: 5, alert_at_percent: [50], unpriced: refuse }
admin:
  enabled: true
  listen: { host: 127.0.0.1, port: 9000 }
  session: { idle_timeout_s: 60, absolute_timeout_s: 2592000 }
  secure_cookie: true
  allowed_origins: ["https://console.example.com"]
  max_body_bytes: 65536
  enrolment_ttl_s: 86400
  lockout: { threshold: 5, window_s: 900, base_lockout_s: 1, max_lockout_s: 604800 }
policy: { require_approval: true, operator_tenant: ops, allowed_references: [K], poll_interval_ms: 1000, heartbeat_interval_ms: 5000 }
`;

/** What FULL_A cannot show at once: PostgreSQL store and vault, and limits.redis. */
const FULL_B = `
store: { driver: postgres, url: "\${PG}", pool_size: 10, schema: portcullis }
security:
  key_hash_secret: "\${SECRET}"
  tenant_keys: { vault: postgres, url: "\${PG2}" }
providers:
  p: { kind: openai, base_url: https://api.openai.com/v1, api_key: "\${K}" }
models:
  m: { targets: [ { provider: p, model: x } ] }
limits:
  backend: redis
  redis: { url: "\${REDIS}", key_prefix: "p:", timeout_ms: 1000 }
  rules:
    - { scope: tenant, requests_per_second: 50 }
budgets:
  rules:
    - { name: b1, scope: team, period: day, amount_usd: 5 }
guardrails:
  policies:
    - name: judged
      detectors:
        - { detector: judge, model: m, format: llama_guard, timeout_ms: 2000, categories: [S1], action: block, on: [output], on_error: allow }
`;
const FULL = [FULL_A, FULL_B];

function parseProblems(yaml: string): { path: string; message: string }[] {
  try {
    parseConfig(yaml, '/nonexistent/portcullis.yaml', ENV, '/nonexistent');
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => ({ path: p.path, message: p.message }));
  }
}

/** Every `entries` call the readers make while reading `yamls`: the document path and the keys allowed there. */
function recordEntries(yamls: readonly string[]): { path: string; allowed: readonly string[] | null }[] {
  const calls: { path: string; allowed: readonly string[] | null }[] = [];
  const original = ConfigReader.prototype.entries;
  ConfigReader.prototype.entries = function (this: ConfigReader, ...args: Parameters<ConfigReader['entries']>) {
    calls.push({ path: args[0].path, allowed: args[1] });
    return original.apply(this, args);
  };
  try {
    for (const y of yamls) parseProblems(y);
  } finally {
    ConfigReader.prototype.entries = original;
  }
  return calls;
}

/** `models["gpt-4o"].targets[0]` → ['models', 'gpt-4o', 'targets', 0]. */
function segments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3] as string) as string);
  }
  return out;
}

/** The declared node at a concrete document path, and its display path. */
function declaredAt(root: KeySpec, path: string): { spec: KeySpec; shown: string } | undefined {
  let node: KeySpec | undefined = root;
  let shown = '';
  const enter = (n: KeySpec): KeySpec => (n.kind === 'oneOf' ? (n.options.find((o) => o.kind === 'section') ?? n) : n);
  for (const seg of segments(path)) {
    node = enter(node);
    if (typeof seg === 'number') {
      if (node.kind !== 'list') return undefined;
      node = node.items;
      shown += '[]';
    } else if (node.kind === 'section') {
      node = node.keys[seg];
      shown += shown === '' ? seg : `.${seg}`;
    } else if (node.kind === 'map') {
      shown += `.<${node.name}>`;
      node = node.values;
    } else return undefined;
    if (node === undefined) return undefined;
  }
  return { spec: enter(node), shown };
}

/** Display paths of every declared map (fixed keys or free keys), as `declaredAt` shows them. */
function declaredMaps(spec: KeySpec, shown: string): string[] {
  const join = (k: string): string => (shown === '' ? k : `${shown}.${k}`);
  switch (spec.kind) {
    case 'section':
      return [shown, ...Object.entries(spec.keys).flatMap(([k, v]) => declaredMaps(v, join(k)))];
    case 'map':
      return [shown, ...declaredMaps(spec.values, `${shown}.<${spec.name}>`)];
    case 'list':
      return declaredMaps(spec.items, `${shown}[]`);
    case 'oneOf':
      return spec.options.flatMap((o) => declaredMaps(o, shown));
    default:
      return [];
  }
}

/** Differences between what the readers opened and what is declared; [] when they agree. */
function disagreements(root: KeySpec, calls: readonly { path: string; allowed: readonly string[] | null }[]): string[] {
  const out: string[] = [];
  for (const { path, allowed } of calls) {
    const d = declaredAt(root, path);
    if (d === undefined) {
      out.push(`${path}: the reader reads a map here that is not declared`);
      continue;
    }
    if (allowed === null) {
      if (d.spec.kind !== 'map')
        out.push(`${d.shown}: the reader takes any key here, the declaration is a ${d.spec.kind}`);
      continue;
    }
    if (d.spec.kind !== 'section') {
      out.push(`${d.shown}: the reader takes fixed keys here, the declaration is a ${d.spec.kind}`);
      continue;
    }
    const declared = Object.keys(d.spec.keys);
    for (const k of allowed)
      if (!declared.includes(k)) out.push(`${d.shown}.${k}: accepted by the reader but not declared (undocumented)`);
    for (const k of declared)
      if (!allowed.includes(k)) out.push(`${d.shown}.${k}: declared (documented) but the reader refuses it`);
  }
  return [...new Set(out)];
}

test('docs/configuration.md and docs/config.schema.json are generated from the declared keys (run `node src/config/render-reference.ts`)', () => {
  assert.equal(readFileSync(CONFIG_DOC_PATH, 'utf8'), renderConfigDoc(readFileSync(CONFIG_DOC_PATH, 'utf8')));
  assert.equal(readFileSync(CONFIG_SCHEMA_PATH, 'utf8'), renderJsonSchema());
});

test('every declared key has a meaning in the reference', () => {
  const rows = referenceRows();
  assert.ok(rows.length > 200, `only ${rows.length} rows`);
  const leaves = rows.filter((r) => !['section', 'map'].includes(r.spec.kind));
  for (const r of leaves) assert.ok((r.spec.doc ?? '').trim().length > 0, `${r.path} has no meaning`);
  assert.equal(new Set(rows.map((r) => r.path)).size, rows.length, 'a path is listed twice');
});

test('the readers accept exactly the declared keys, and read every declared map', () => {
  const root = configFileSpec();
  const calls = recordEntries(FULL);
  assert.deepEqual(disagreements(root, calls), []);
  const opened = new Set(calls.map((c) => declaredAt(root, c.path)?.shown));
  const unread = declaredMaps(root, '').filter((p) => !opened.has(p));
  assert.deepEqual(unread, [], 'declared maps no fixture reaches: extend FULL_A/FULL_B so the check covers them');
});

test('the check catches a key accepted but undocumented, and one documented but refused', () => {
  const root = configFileSpec();
  const calls = recordEntries([FULL_B]);
  const extra = calls.map((c) => (c.path === 'store' ? { ...c, allowed: [...(c.allowed ?? []), 'pool'] } : c));
  assert.match(disagreements(root, extra).join('\n'), /store\.pool: accepted by the reader but not declared/);
  const fewer = calls.map((c) =>
    c.path === 'store' ? { ...c, allowed: (c.allowed ?? []).filter((k) => k !== 'schema') } : c,
  );
  assert.match(
    disagreements(root, fewer).join('\n'),
    /store\.schema: declared \(documented\) but the reader refuses it/,
  );
});

type Probe<K extends KeySpec['kind']> = {
  shown: string;
  spec: Extract<KeySpec, { kind: K }>;
  yaml: string;
  at: (string | number)[];
};

/** For each declared key of these kinds, the first fixture that sets it and where. */
function probes<K extends KeySpec['kind']>(kinds: readonly K[], isSet: (v: unknown) => boolean): Probe<K>[] {
  const out: Probe<K>[] = [];
  for (const yaml of FULL) {
    const data = parseDocument(yaml).toJS() as unknown;
    const visit = (spec: KeySpec, value: unknown, at: (string | number)[], shown: string): void => {
      if ((kinds as readonly string[]).includes(spec.kind)) {
        if (isSet(value) && !out.some((p) => p.shown === shown))
          out.push({ shown, spec: spec as Extract<KeySpec, { kind: K }>, yaml, at });
        return;
      }
      if (value === null || typeof value !== 'object') return;
      if (spec.kind === 'section')
        for (const [k, s] of Object.entries(spec.keys))
          visit(s, (value as Record<string, unknown>)[k], [...at, k], `${shown}${shown ? '.' : ''}${k}`);
      if (spec.kind === 'map')
        for (const k of Object.keys(value).slice(0, 1))
          visit(spec.values, (value as Record<string, unknown>)[k], [...at, k], `${shown}.<${spec.name}>`);
      if (spec.kind === 'list' && Array.isArray(value) && value.length > 0 && spec.items.kind === 'section')
        visit(spec.items, value[0], [...at, 0], `${shown}[]`);
      if (spec.kind === 'oneOf') for (const o of spec.options) if (o.kind === 'section') visit(o, value, at, shown);
    };
    visit(configFileSpec(), data, [], '');
  }
  return out;
}
const numericProbes = () => probes(['integer', 'number'], (v) => typeof v === 'number');

function problemsWith(yaml: string, at: (string | number)[], value: number | string): string[] {
  const doc = parseDocument(yaml);
  doc.setIn(at, value);
  const path = at.reduce<string>((p, s) => childPath(p, s), '');
  return parseProblems(doc.toString())
    .filter((p) => p.path === path)
    .map((p) => p.message);
}

test("every declared numeric range is the reader's: the ends are accepted, one past them is refused", () => {
  const probes = numericProbes();
  const declared = referenceRows().filter((r) => r.spec.kind === 'integer' || r.spec.kind === 'number');
  const missing = declared.map((r) => r.path).filter((p) => !probes.some((q) => q.shown === p));
  assert.deepEqual(missing, [], 'numeric keys no fixture can reach');
  const wrong: string[] = [];
  for (const { shown, spec, yaml, at } of probes) {
    const { min, max } = spec;
    assert.ok(min !== undefined && max !== undefined, `${shown} declares no range`);
    const step = spec.kind === 'integer' ? 1 : Math.max(1e-6, Math.abs(max - min) / 1e6);
    for (const v of [min, max]) {
      const p = problemsWith(yaml, at, v);
      if (p.length > 0) wrong.push(`${shown} = ${v} (declared end) is refused: ${p.join('; ')}`);
    }
    for (const v of [min - step, max + step]) {
      if (problemsWith(yaml, at, v).length === 0) wrong.push(`${shown} = ${v} (outside ${min}–${max}) is accepted`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('every declared choice is one the reader takes, and a value outside the choices is refused', () => {
  const found = probes(['enum'], (v) => typeof v === 'string');
  const declared = referenceRows()
    .filter((r) => r.spec.kind === 'enum')
    .map((r) => r.path);
  assert.deepEqual(
    declared.filter((p) => !found.some((q) => q.shown === p)),
    [],
    'choice keys no fixture sets',
  );
  const wrong: string[] = [];
  for (const { shown, spec, yaml, at } of found) {
    for (const v of spec.values) {
      const p = problemsWith(yaml, at, v);
      if (p.length > 0) wrong.push(`${shown} = ${v} (declared) is refused: ${p.join('; ')}`);
    }
    if (problemsWith(yaml, at, 'zz_not_declared').length === 0) wrong.push(`${shown} = zz_not_declared is accepted`);
  }
  assert.deepEqual(wrong, []);
});

test('the JSON Schema accepts the full configs and refuses a misspelt key or a value out of range', () => {
  const schema = JSON.parse(renderJsonSchema()) as Record<string, unknown>;
  for (const yaml of FULL) assert.deepEqual(schemaViolations(schema, parseDocument(yaml).toJS()), []);
  const typo = parseDocument(FULL_B).toJS() as { store: Record<string, unknown> };
  typo.store.pool_sise = 3;
  assert.deepEqual(schemaViolations(schema, typo), ['store.pool_sise: unknown key']);
  const range = parseDocument(FULL_B).toJS() as { store: Record<string, unknown> };
  range.store.pool_size = 201;
  assert.deepEqual(schemaViolations(schema, range), ['store.pool_size: above 200']);
  const literal = parseDocument(FULL_B).toJS() as { providers: { p: Record<string, unknown> } };
  literal.providers.p.api_key = 'sk-live-literal';
  assert.equal(schemaViolations(schema, literal).length, 1);
});
