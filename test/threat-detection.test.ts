/**
 * Threat detection through the real gateway process: a usage spike gets the key throttled
 * (429 + Retry-After), repeated validation refusals get it suspended (403), a brute force
 * raises an alert that reaches a local webhook receiver signed and verifiable, alerts are in
 * the audit log, and the `portcullis alerts` commands work against the same config.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { verifyWebhookSignature } from '../src/alerts/signature.ts';
import type { WebhookPayload } from '../src/alerts/webhook-event.ts';
import { type RunningGateway, rawRequest, startGateway } from './helpers/gateway.ts';

const SECRET = 'integration-webhook-secret-0123456789';
interface Delivery {
  headers: IncomingMessage['headers'];
  body: string;
  json: WebhookPayload;
}

let gw: RunningGateway;
let receiver: Server;
const deliveries: Delivery[] = [];

before(
  async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req
        .setEncoding('utf8')
        .on('data', (d: string) => {
          body += d;
        })
        .on('end', () => {
          deliveries.push({ headers: req.headers, body, json: JSON.parse(body) });
          res.writeHead(204).end();
        });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    gw = await startGateway({
      serverYaml: `server:
  host: 127.0.0.1
  port: 0
threat_detection:
  rules:
    brute_force: { threshold: 4, window_s: 600 }
    credential_stuffing: { enabled: false }
    new_network: { enabled: false }
    usage_spike: { window_s: 600, factor: 3, min_requests: 5, warmup_windows: 0, action: throttle, duration_s: 300, throttle_requests_per_minute: 0 }
    repeated_refusals: { threshold: 3, window_s: 600, action: suspend, duration_s: 300 }
alerts:
  max_attempts: 2
  retry_base_ms: 20
  retry_max_ms: 100
  webhooks:
    - { id: soc, url: "${hookUrl}", secret: "\${ALERT_SECRET}", allow_private_network: true }
    - { id: unreachable, url: "http://127.0.0.1:1/hook", secret: "\${ALERT_SECRET}", allow_private_network: true, events: ["threat.brute_force"] }
`,
      authYaml: 'auth:\n  lockout:\n    enabled: false\n',
      env: { ALERT_SECRET: SECRET },
    });
  },
  { timeout: 60_000 },
);

after(async () => {
  await gw?.stop();
  receiver?.close();
});

const chat = (key: string, body: unknown = { model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }) =>
  rawRequest(`${gw.url}/v1/chat/completions`, {
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${gw.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a usage spike throttles the key: 429 limit.adaptive_throttle with Retry-After; other keys are served', {
  timeout: 60_000,
}, async () => {
  const key = await gw.createKey({ label: 'spiky' });
  const other = await gw.createKey({ label: 'calm' });
  for (let i = 0; i < 5; i++)
    assert.equal((await chat(key)).status, 200, `request ${i + 1} is under the spike threshold`);
  const refused = await chat(key);
  assert.equal(refused.status, 429);
  assert.equal(refused.json.error.code, 'limit.adaptive_throttle');
  assert.equal(refused.headers.get('x-portcullis-error-code'), 'limit.adaptive_throttle');
  const retryAfter = Number(refused.headers.get('retry-after'));
  assert.ok(retryAfter > 250 && retryAfter <= 300, `Retry-After ${retryAfter} is the rest of the throttle`);
  assert.equal((await chat(other)).status, 200, 'a different key is not throttled');
  const alert = await waitFor('the usage_spike webhook', () =>
    deliveries.find((d) => d.json.type === 'threat.usage_spike'),
  );
  assert.equal(alert.json.detail.action, 'throttle');
  assert.equal(alert.json.severity, 'warning');
  assert.match(alert.json.subject ?? '', /^key:/);
});

test('repeated validation refusals suspend the key: 403 auth.key_suspended, audited', { timeout: 60_000 }, async () => {
  const key = await gw.createKey({ label: 'fuzzer' });
  for (let i = 0; i < 3; i++) assert.equal((await chat(key, { model: 'gpt', messages: 'not a list' })).status, 400);
  const refused = await chat(key);
  assert.equal(refused.status, 403);
  assert.equal(refused.json.error.code, 'auth.key_suspended');
  assert.ok(Number(refused.headers.get('retry-after')) > 250);
});

test('a brute force raises an alert delivered to the webhook, signed; tampering or replay fails verification', {
  timeout: 60_000,
}, async () => {
  for (let i = 0; i < 4; i++) {
    const r = await chat(`pcl_${'x'.repeat(8)}${i}_thisIsNotAValidKeyAtAll000000000000000`);
    assert.equal(r.status, 401);
  }
  const alert = await waitFor('the brute_force webhook', () =>
    deliveries.find((d) => d.json.type === 'threat.brute_force'),
  );
  const sig = alert.headers['portcullis-signature'] as string;
  assert.equal(verifyWebhookSignature(SECRET, sig, alert.body), true, 'signature verifies over the raw body');
  assert.equal(alert.headers['portcullis-event-id'], alert.json.id);
  assert.equal(alert.json.subject, 'ip:127.0.0.1');
  assert.equal(alert.json.detail.rule, 'brute_force');
  assert.equal(alert.json.detail.failures, 4);
  assert.equal(
    verifyWebhookSignature(SECRET, sig, alert.body.replace('127.0.0.1', '10.0.0.1')),
    false,
    'tampered body',
  );
  const t = Number(/t=(\d+)/.exec(sig)![1]);
  assert.equal(verifyWebhookSignature(SECRET, sig, alert.body, { now: t + 3600 }), false, 'replayed an hour later');
  assert.ok(
    !deliveries.some((d) => d.json.type === 'auth.failure'),
    'the default events filter sends alerts (threat.*), not every failure',
  );
  assert.ok(!(await gw.settledOutput()).includes(SECRET), 'the webhook secret is never logged');
});

test("alerts are in the audit log, and the unreachable webhook's delivery is dead-lettered", {
  timeout: 60_000,
}, async () => {
  const letters = await waitFor('a dead letter', async () => {
    const r = await gw.cli(['alerts', 'dead-letters', '--config', gw.configPath, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    return lines.length > 0 ? lines : undefined;
  });
  assert.deepEqual(
    [letters[0].webhook_id, letters[0].event_type, letters[0].attempts],
    ['unreachable', 'threat.brute_force', 2],
  );
  assert.match(letters[0].last_error, /network error/);
  const human = await gw.cli(['alerts', 'dead-letters', '--config', gw.configPath]);
  assert.match(human.stdout, /1 dead letter\(s\).*\n.*webhook unreachable\s+threat\.brute_force/);

  const exported = await gw.cli([
    'audit',
    'export',
    '--config',
    gw.configPath,
    '--from',
    '2000-01-01',
    '--to',
    '2100-01-01',
  ]);
  assert.equal(exported.code, 0, exported.stderr);
  const alerts = exported.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.action === 'security.alert');
  const byRule = new Map(alerts.map((a) => [a.metadata.rule, a]));
  assert.deepEqual([...byRule.keys()].sort(), ['brute_force', 'repeated_refusals', 'usage_spike']);
  assert.deepEqual(
    [byRule.get('usage_spike').decision, byRule.get('usage_spike').reason],
    ['refused', 'limit.adaptive_throttle'],
  );
  assert.deepEqual([byRule.get('brute_force').decision, byRule.get('brute_force').target], ['allowed', 'ip:127.0.0.1']);
});

test('`portcullis alerts test` sends a signed test event to each webhook and reports each result', {
  timeout: 60_000,
}, async () => {
  const before = deliveries.length;
  const r = await gw.cli(['alerts', 'test', '--config', gw.configPath]);
  assert.equal(r.code, 1, 'one webhook is unreachable');
  assert.match(r.stdout, /webhook soc \(127\.0\.0\.1:\d+\): delivered \(HTTP 204\)/);
  assert.match(r.stdout, /webhook unreachable \(127\.0\.0\.1:1\): FAILED: network error/);
  const test = deliveries.slice(before).find((d) => d.json.type === 'alert.test');
  assert.ok(test);
  assert.equal(verifyWebhookSignature(SECRET, test.headers['portcullis-signature'] as string, test.body), true);
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
});
