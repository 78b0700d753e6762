import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { silentLogger } from '../logger.ts';
import { createOtlpExporter } from './otlp-exporter.ts';
import { startRequestSpans } from './spans.ts';

function spansOf(n: number) {
  const s = startRequestSpans({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), parentId: undefined });
  for (let i = 1; i < n; i++) s.stage('audit', 'onRequest', 0, 1);
  return s.end('GET /v1/models', {}, undefined);
}

/** The parts of an OTLP/JSON export request the tests read. */
interface OtlpExportBody {
  resourceSpans: { scopeSpans: { spans: unknown[] }[] }[];
}

async function collector(status: (n: number) => number) {
  const bodies: OtlpExportBody[] = [];
  const headers: IncomingMessage['headers'][] = [];
  let calls = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    calls++;
    headers.push(req.headers);
    const code = status(calls);
    if (code === 200) bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    res.writeHead(code).end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  return { url, bodies, headers, calls: () => calls, close: () => new Promise((r) => server.close(r)) };
}

const base = {
  resource: { serviceName: 'portcullis', serviceVersion: 't', instanceId: 'i' },
  maxBatchSpans: 4,
  flushIntervalMs: 50,
  timeoutMs: 2000,
  log: silentLogger(),
};

test('batches spans, sends the configured headers, retries a 503 once', async () => {
  const c = await collector((n) => (n === 1 ? 503 : 200));
  const ex = createOtlpExporter({
    ...base,
    endpoint: c.url,
    headers: { authorization: 'Bearer t0k' },
    maxQueueSpans: 100,
  });
  ex.enqueue(spansOf(3));
  ex.enqueue(spansOf(3));
  await ex.close();
  const sent = c.bodies.flatMap((b) => b.resourceSpans[0]!.scopeSpans[0]!.spans);
  assert.equal(sent.length, 6);
  assert.ok(c.bodies.every((b) => b.resourceSpans[0]!.scopeSpans[0]!.spans.length <= 4));
  assert.equal(c.headers[0]!.authorization, 'Bearer t0k');
  assert.equal(c.headers[0]!['content-type'], 'application/json');
  assert.equal(ex.stats.exported, 6);
  assert.equal(ex.stats.dropped, 0);
  await c.close();
});

test('a full queue drops and counts instead of growing; a refusing collector drops the batch', async () => {
  const c = await collector(() => 400);
  const ex = createOtlpExporter({
    ...base,
    endpoint: c.url,
    headers: {},
    maxQueueSpans: 64,
    maxBatchSpans: 64,
    flushIntervalMs: 60_000,
  });
  ex.enqueue(spansOf(50));
  ex.enqueue(spansOf(50)); // only 14 fit
  await ex.close();
  assert.equal(ex.stats.exported, 0);
  assert.equal(ex.stats.dropped, 100);
  assert.equal(c.calls(), 1, 'a 400 is not retried');
  await c.close();
});

test('an unreachable collector never throws into the caller', async () => {
  const ex = createOtlpExporter({ ...base, endpoint: 'http://127.0.0.1:9/v1/traces', headers: {}, maxQueueSpans: 100 });
  ex.enqueue(spansOf(2));
  await ex.close();
  assert.equal(ex.stats.dropped, 2);
});
