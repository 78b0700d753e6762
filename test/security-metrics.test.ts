/**
 * Cost, refusals, lockouts, threat firings and alert deliveries through the real gateway
 * process: traffic that a budget, a rate limit and a brute-force attacker each trip, then a
 * scrape of the metrics listener (every new counter moved, the cost equals the recorded cost
 * to the micro-dollar, no key material in labels), and the admin API's security events view
 * showing the tenant's alert and lockout records.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { keyedHash, newAdminToken, tokenDisplayPrefix } from '../src/identity/admin/admin-secrets.ts';
import { sampleAdminUser } from '../src/store/admin-contract.ts';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { type RunningGateway, rawRequest, STANDARD_MODELS, startGateway } from './helpers/gateway.ts';

const KHS = 'security-metrics-test-secret-0123456789abcdef';
const METRICS_TOKEN = 'it-security-metrics-token-0a1b2c3d';
const ALERT_SECRET = 'security-metrics-webhook-secret-0123456789';

const CONFIG = `server:
  host: 127.0.0.1
  port: 0
  shutdown_grace_ms: 3000
metrics:
  host: 127.0.0.1
  port: 0
  bearer_token: "\${IT_METRICS_TOKEN}"
admin:
  enabled: true
pricing:
  version: it-sec-1
  models:
    - { provider: openai, model: gpt-4o-mini, input_per_1m: 1000, output_per_1m: 2000 }
    - { provider: llama, model: meta-llama/Llama-3.1-8B-Instruct, input_per_1m: 1000, output_per_1m: 2000 }
budgets:
  default_max_tokens: 8
  rules:
    - { name: llama-tiny, scope: key, model: llama, period: day, amount_usd: 0.01 }
limits:
  rules:
    - { scope: key, model: mistral, requests_per_minute: 60, burst: 1 }
threat_detection:
  rules:
    brute_force: { threshold: 3, window_s: 600 }
    credential_stuffing: { enabled: false }
    new_network: { enabled: false }
    usage_spike: { enabled: false }
    repeated_refusals: { enabled: false }
alerts:
  max_attempts: 2
  retry_base_ms: 20
  retry_max_ms: 100
  webhooks:
    - { id: soc, url: "HOOK_URL", secret: "\${IT_ALERT_SECRET}", allow_private_network: true, events: ["threat.brute_force"] }
    - { id: unreachable, url: "http://127.0.0.1:1/hook", secret: "\${IT_ALERT_SECRET}", allow_private_network: true, events: ["threat.brute_force"] }
`;

let gw: RunningGateway;
let receiver: Server;
let metricsUrl: string;
let hookCalls = 0;

before(
  async () => {
    // The first delivery is refused with 503 (retried), the rest accepted.
    receiver = createServer((req, res) => {
      req.resume().on('end', () => {
        hookCalls += 1;
        res.writeHead(hookCalls === 1 ? 503 : 204).end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    gw = await startGateway({
      serverYaml: CONFIG.replace('HOOK_URL', hookUrl),
      modelsYaml: STANDARD_MODELS,
      stateYaml:
        'store:\n  path: ./state/portcullis.db\nsecurity:\n  data_dir: ./state\n  key_hash_secret: "${IT_KHS}"\n',
      authYaml: 'auth:\n  lockout: { threshold: 3, window: 10m, base_lockout: 5m, max_lockout: 1h }\n',
      env: { IT_KHS: KHS, IT_METRICS_TOKEN: METRICS_TOKEN, IT_ALERT_SECRET: ALERT_SECRET },
    });
    const line = gw
      .output()
      .split('\n')
      .find((l) => l.includes('"metrics listening"'));
    assert.ok(line, `no "metrics listening" line in:\n${gw.output()}`);
    metricsUrl = (JSON.parse(line) as { url: string }).url;
  },
  { timeout: 60_000 },
);

after(async () => {
  await gw?.stop();
  receiver?.close();
});

const chat = (key: string, model: string) =>
  rawRequest(`${gw.url}/v1/chat/completions`, {
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello security metrics' }] }),
  });

async function scrape(): Promise<string> {
  const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  assert.equal(res.status, 200);
  return res.text();
}

function value(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${gw.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function seedOwnerToken(): Promise<string> {
  const store = createSqliteStore({ path: join(gw.dir, 'state', 'portcullis.db'), batchWindowMs: 0 });
  await store.init();
  const token = newAdminToken();
  try {
    const now = new Date().toISOString();
    await store.insertAdminUser(
      sampleAdminUser({ id: 'u_sec', tenantId: 'default', teamId: null, role: 'owner', email: 'sec@example.com' }),
    );
    await store.insertAdminToken({
      id: 'atk_sec',
      userId: 'u_sec',
      tenantId: 'default',
      label: 'it',
      prefix: tokenDisplayPrefix(token),
      hash: keyedHash(Buffer.from(KHS, 'utf8'), 'admin-token', token),
      actions: null,
      createdAt: now,
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    });
  } finally {
    await store.close();
  }
  return token;
}

function recordedCostMicros(model: string): { count: number; micros: number } {
  const db = new DatabaseSync(join(gw.dir, 'state', 'portcullis.db'), { readOnly: true });
  try {
    const row = db
      .prepare(
        'SELECT COUNT(*) AS n, COALESCE(SUM(cost_micros), 0) AS micros FROM request_records WHERE model = ? AND cost_micros IS NOT NULL',
      )
      .get(model) as { n: number; micros: number };
    return { count: Number(row.n), micros: Number(row.micros) };
  } finally {
    db.close();
  }
}

test("every new counter moves with real traffic; the admin API shows the tenant's security events", {
  timeout: 120_000,
}, async () => {
  const token = await seedOwnerToken();
  const admin = (method: string, path: string) =>
    fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const key = await gw.createKey({ label: 'victim' });
  const created = await gw.cli([
    'keys',
    'create',
    '--config',
    gw.configPath,
    '--label',
    'stolen',
    '--models',
    '*',
    '--json',
  ]);
  const stolen = JSON.parse(created.stdout) as { key: string; id: string };

  // Cost: two priced requests; the metric is the sum of the recorded cost.
  for (let i = 0; i < 2; i++) assert.equal((await chat(key, 'gpt')).status, 200);
  const recorded = await waitFor('two priced records', async () => {
    const r = recordedCostMicros('gpt');
    return r.count === 2 ? r : undefined;
  });
  assert.ok(recorded.micros > 0);

  // A rate limit (burst 1) and a budget (0.01 $ against an 8-token worst case of 0.016 $) refuse; the
  // budget is not spent, so the refusal says the worst case does not fit rather than "exhausted".
  assert.equal((await chat(key, 'mistral')).status, 200);
  const limited = await chat(key, 'mistral');
  assert.equal(limited.status, 429);
  assert.equal(limited.json.error.code, 'limit.requests');
  const budget = await chat(key, 'llama');
  assert.equal(
    budget.json?.error?.code,
    'budget.reservation_too_large',
    `llama: ${budget.status} ${JSON.stringify(budget.json)}`,
  );

  // A revoked key tried again and again (failures the tenant owns): the client is locked out and the rule fires.
  assert.equal((await admin('POST', `/admin/v1/keys/${stolen.id}/revoke`)).status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await chat(stolen.key, 'gpt')).status, 401);
  assert.equal((await chat(key, 'gpt')).status, 429, 'locked out, even with the right key');

  const m = await waitFor('alert deliveries to settle', async () => {
    const body = await scrape();
    const dead = value(body, 'portcullis_alert_deliveries_total{result="dead_lettered"}') ?? 0;
    const delivered = value(body, 'portcullis_alert_deliveries_total{result="delivered"}') ?? 0;
    const retried = value(body, 'portcullis_alert_deliveries_total{result="retried"}') ?? 0;
    return dead >= 1 && delivered >= 1 && retried >= 2 ? body : undefined;
  });
  assert.equal(value(m, 'portcullis_cost_usd_total{model="gpt",provider="openai"}'), recorded.micros / 1_000_000);
  assert.equal(value(m, 'portcullis_rate_limit_refusals_total{code="limit.requests"}'), 1);
  assert.equal(value(m, 'portcullis_budget_refusals_total{code="budget.reservation_too_large"}'), 1);
  assert.ok(
    (value(m, 'portcullis_lockouts_total{kind="ip"}') ?? 0) +
      (value(m, 'portcullis_lockouts_total{kind="key"}') ?? 0) >=
      1,
    m,
  );
  assert.equal(value(m, 'portcullis_threat_firings_total{rule="brute_force",action="alert"}') !== undefined, true, m);
  // soc: 503 then accepted; unreachable: connection refused, retried once, then dead-lettered
  // (the wait above required each result to move).
  assert.equal(value(m, 'portcullis_alert_deliveries_total{result="dropped"}'), 0);
  assert.doesNotMatch(m, /pcl_|127\.0\.0\.1|default"/, 'no key, address or tenant in any label');

  // The tenant's owner reads the alert and the lockout from the admin API.
  const events = await waitFor('security records in the audit log', async () => {
    const res = await admin('GET', '/admin/v1/security-events?from=2000-01-01&to=2999-01-01&limit=100');
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      data: Array<{ action: string; actor: { tenant: string | null }; metadata: Record<string, unknown> }>;
    };
    const actions = body.data.map((r) => r.action);
    return actions.includes('security.alert') && actions.includes('auth.lockout') ? body.data : undefined;
  });
  assert.ok(events.some((r) => r.action === 'security.alert' && r.metadata['rule'] === 'brute_force'));
  assert.deepEqual([...new Set(events.map((r) => r.actor.tenant))], ['default']);
  assert.ok(
    events.every((r) => r.action !== 'model.call'),
    'only security records',
  );
  const bad = await admin('GET', '/admin/v1/security-events?limit=0');
  assert.equal(bad.status, 400);
});
