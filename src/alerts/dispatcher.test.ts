import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import type { SecurityEvent } from '../events/security-events.ts';
import { createLogger } from '../observability/logger.ts';
import type { WebhookConfig } from './config-types.ts';
import { createDeadLetterFile, readDeadLetters } from './dead-letters.ts';
import { createAlertDispatcher } from './dispatcher.ts';
import { verifyWebhookSignature } from './signature.ts';
import { createWebhookSender, type WebhookSender } from './webhook-sender.ts';

const SECRET = 'test-webhook-secret-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'portcullis-alerts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local receiver answering each request with the next status in `statuses` (the last one repeats). */
async function receiver(
  statuses: Array<number | [number, Record<string, string>]>,
): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req
      .setEncoding('utf8')
      .on('data', (d: string) => {
        body += d;
      })
      .on('end', () => {
        got.push({ headers: req.headers, body });
        const next = statuses[Math.min(got.length - 1, statuses.length - 1)]!;
        const [status, headers] = Array.isArray(next) ? next : [next, {}];
        res.writeHead(status, headers).end('ok');
      });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(() => {
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, server };
}

function logCapture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), lines };
}

const hook = (url: string, over: Partial<WebhookConfig> = {}): WebhookConfig => ({
  id: 'soc',
  url,
  secret: SECRET,
  minSeverity: 'warning',
  events: ['threat.*'],
  allowPrivateNetwork: true,
  ...over,
});

const alert: SecurityEvent = {
  type: 'threat.brute_force',
  severity: 'warning',
  time: '2026-01-01T00:00:00.000Z',
  tenantId: 't1',
  keyPrefix: 'pcl_ab',
  subject: 'ip:203.0.113.7',
  sourceIp: '203.0.113.7',
  detail: { failures: 10, rule: 'brute_force' },
};

let n = 0;
function dispatcher(
  hooks: WebhookConfig[],
  over: { maxAttempts?: number; retryBaseMs?: number; queueSize?: number; sender?: WebhookSender } = {},
) {
  const path = join(dir, `dead-${++n}.jsonl`);
  const { log, lines } = logCapture();
  const d = createAlertDispatcher({
    config: {
      webhooks: hooks,
      maxAttempts: over.maxAttempts ?? 3,
      retryBaseMs: over.retryBaseMs ?? 5,
      retryMaxMs: 2000,
      queueSize: over.queueSize ?? 100,
    },
    sender: over.sender ?? createWebhookSender({ timeoutMs: 5000 }),
    deadLetters: createDeadLetterFile(path),
    log,
    random: () => 0.5,
  });
  after(() => d.close());
  return { d, path, lines };
}

test('a delivery is signed over the exact body and carries the event id; the receiver can verify it', async () => {
  const r = await receiver([200]);
  const { d } = dispatcher([hook(r.url)]);
  d.enqueue(alert);
  await d.idle();
  assert.equal(r.got.length, 1);
  const { headers, body } = r.got[0]!;
  assert.equal(verifyWebhookSignature(SECRET, headers['portcullis-signature'] as string, body), true);
  assert.equal(
    verifyWebhookSignature(
      SECRET,
      headers['portcullis-signature'] as string,
      body.replace('203.0.113.7', '203.0.113.8'),
    ),
    false,
    'tampered body',
  );
  assert.equal(
    verifyWebhookSignature('wrong-secret-0123456789', headers['portcullis-signature'] as string, body),
    false,
  );
  const payload = JSON.parse(body);
  assert.match(payload.id, /^evt_[0-9a-f-]{36}$/);
  assert.equal(headers['portcullis-event-id'], payload.id);
  assert.equal(headers['portcullis-event-type'], 'threat.brute_force');
  assert.equal(headers['content-type'], 'application/json');
  assert.deepEqual(
    [payload.type, payload.severity, payload.subject, payload.tenant_id, payload.detail.failures],
    ['threat.brute_force', 'warning', 'ip:203.0.113.7', 't1', 10],
  );
  assert.equal(d.stats().delivered, 1);
});

test('events a webhook did not ask for (type or severity) are not sent', async () => {
  const r = await receiver([200]);
  const { d } = dispatcher([
    hook(r.url, { minSeverity: 'critical' }),
    hook(r.url, { id: 'lockouts', events: ['auth.lockout'], minSeverity: 'info' }),
  ]);
  d.enqueue(alert);
  d.enqueue({ ...alert, type: 'auth.failure' });
  d.enqueue({ ...alert, type: 'auth.lockout', severity: 'info' });
  await d.idle();
  assert.deepEqual(
    r.got.map((g) => g.headers['portcullis-event-type']),
    ['auth.lockout'],
  );
});

test('5xx and 429 are retried with backoff (Retry-After honoured) until delivered, under one event id', async () => {
  const r = await receiver([503, [429, { 'retry-after': '1' }], 200]);
  const { d, lines } = dispatcher([hook(r.url)], { maxAttempts: 5 });
  d.enqueue(alert);
  await d.idle();
  assert.equal(r.got.length, 3);
  assert.equal(
    new Set(r.got.map((g) => g.headers['portcullis-event-id'])).size,
    1,
    'every retry carries the same event id',
  );
  for (const g of r.got)
    assert.equal(verifyWebhookSignature(SECRET, g.headers['portcullis-signature'] as string, g.body), true);
  const waits = lines.filter((l) => l.event === 'alerts.retry').map((l) => l.retryInMs);
  // Backoff with jitter (random fixed at 0.5): 5 ms ceiling → 4; then Retry-After: 1 s wins over 8 ms.
  assert.deepEqual(waits, [4, 1000]);
  assert.deepEqual(d.stats(), { queued: 0, delivered: 1, retried: 2, dropped: 0, deadLettered: 0 });
});

test('after max_attempts the delivery is dead-lettered with its payload; a 4xx is not retried', async () => {
  const failing = await receiver([500]);
  const { d, path } = dispatcher([hook(failing.url)], { maxAttempts: 3 });
  d.enqueue(alert);
  await d.idle();
  assert.equal(failing.got.length, 3);
  const gone = await receiver([410]);
  const second = dispatcher([hook(gone.url, { id: 'gone' })], { maxAttempts: 3 });
  second.d.enqueue(alert);
  await second.d.idle();
  assert.equal(gone.got.length, 1, 'a 4xx other than 408/429 is final');
  assert.deepEqual(d.stats(), { queued: 0, delivered: 0, retried: 2, dropped: 0, deadLettered: 1 });
  assert.deepEqual(second.d.stats(), { queued: 0, delivered: 0, retried: 0, dropped: 0, deadLettered: 1 });
  const { letters } = readDeadLetters(path);
  assert.equal(letters.length, 1);
  assert.deepEqual(
    [letters[0]!.webhook_id, letters[0]!.attempts, letters[0]!.last_error, letters[0]!.payload.type],
    ['soc', 3, 'HTTP 500', 'threat.brute_force'],
  );
  assert.equal(letters[0]!.event_id, letters[0]!.payload.id);
  assert.equal(readDeadLetters(second.path).letters[0]!.last_error, 'HTTP 410');
  assert.equal(JSON.stringify(letters).includes(SECRET), false, 'the secret is never written');
});

test('without allow_private_network, a private address is refused at send time (literal IP and a name resolving to loopback)', async () => {
  const r = await receiver([200]);
  const port = new URL(r.url).port;
  for (const url of [r.url, `http://localhost:${port}/hook`]) {
    const { d, path } = dispatcher([hook(url, { allowPrivateNetwork: false })], { maxAttempts: 3 });
    d.enqueue(alert);
    await d.idle();
    const letters = readDeadLetters(path).letters;
    assert.equal(letters.length, 1, url);
    assert.equal(letters[0]!.attempts, 1, 'a refusal is final, not retried');
    assert.match(letters[0]!.last_error, /refused: .*private address/);
  }
  assert.equal(r.got.length, 0, 'nothing reached the receiver');
});

test('the queue is bounded: past queue_size deliveries are dropped and counted, never blocking enqueue', async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const sent: string[] = [];
  const sender: WebhookSender = {
    async send(_h, _b, id) {
      sent.push(id);
      await gate;
      return { ok: true, status: 200, retryable: false };
    },
    async close() {},
  };
  const { d, lines } = dispatcher([hook('https://hooks.example.com/')], { queueSize: 2, sender });
  for (let i = 0; i < 5; i++) d.enqueue(alert);
  assert.deepEqual(d.stats(), { queued: 2, delivered: 0, retried: 0, dropped: 3, deadLettered: 0 });
  assert.equal(lines.filter((l) => l.event === 'alerts.dropped').length, 3);
  release();
  await d.idle();
  assert.equal(d.stats().delivered, 2);
});

test('on close, deliveries waiting for a retry are dead-lettered, not lost', async () => {
  const r = await receiver([503]);
  const { d, path, lines } = dispatcher([hook(r.url)], { maxAttempts: 5, retryBaseMs: 60_000 });
  d.enqueue(alert);
  // Wait (by state, not by time) until the first attempt failed and a retry is scheduled.
  while (!lines.some((l) => l.event === 'alerts.retry')) await new Promise((res) => setTimeout(res, 10));
  await d.close();
  const letters = readDeadLetters(path).letters;
  assert.equal(letters.length, 1);
  assert.equal(letters[0]!.attempts, 1);
});
