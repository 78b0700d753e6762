/**
 * OpenTelemetry traces through the real gateway process: an OTLP/HTTP collector in the test
 * receives the spans; the request span continues the caller's trace, stage and attempt spans
 * hang under it, a retried attempt shows as two client spans, and the span id of each attempt
 * is the parent id the provider received. Nothing secret is ever in a span.
 */

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { type RunningGateway, STANDARD_MODELS, startGateway } from './helpers/gateway.ts';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_PARENT = '00f067aa0ba902b7';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  status: { code: number; message?: string };
}

let collector: Server;
const received: OtlpSpan[] = [];
const collectorHeaders: string[] = [];
let gw: RunningGateway;
let key: string;

before(async () => {
  collector = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    collectorHeaders.push(String(req.headers.authorization));
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
    };
    for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) received.push(...ss.spans);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  const port = (collector.address() as AddressInfo).port;
  process.env.PORTCULLIS_IT_OTLP_TOKEN = 'otlp-secret-token-123';
  gw = await startGateway({
    modelsYaml: STANDARD_MODELS,
    serverYaml:
      'server:\n  host: 127.0.0.1\n  port: 0\n  shutdown_grace_ms: 3000\n' +
      `tracing:\n  enabled: true\n  endpoint: http://127.0.0.1:${port}/v1/traces\n  flush_interval_ms: 50\n` +
      '  headers: { authorization: "Bearer ${PORTCULLIS_IT_OTLP_TOKEN}" }\n',
  });
  key = await gw.createKey();
});
after(async () => {
  await gw.stop();
  collector.close();
});

function attr(span: OtlpSpan, k: string): unknown {
  const v = span.attributes.find((a) => a.key === k)?.value;
  return v === undefined ? undefined : Object.values(v)[0];
}

async function spansOfTrace(traceId: string, atLeast: number): Promise<OtlpSpan[]> {
  for (let i = 0; i < 200; i++) {
    const spans = received.filter((s) => s.traceId === traceId);
    if (spans.length >= atLeast && spans.some((s) => s.parentSpanId === undefined || s.kind === 2)) return spans;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`spans of trace ${traceId} never arrived (got ${received.length} spans in all)`);
}

test('a chat request continues the caller trace with stage and GenAI attempt spans', async () => {
  await gw.mockControl('/__mock/faults', 'POST', { provider: 'gemini', status: 503, times: 1 });
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      traceparent: `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01`,
    },
    body: JSON.stringify({ model: 'fallback', messages: [{ role: 'user', content: 'trace me' }] }),
  });
  assert.equal(res.status, 200);
  await res.json();
  const spans = await spansOfTrace(CLIENT_TRACE, 4);
  const root = spans.find((s) => s.kind === 2)!;
  assert.equal(root.parentSpanId, CLIENT_PARENT);
  assert.equal(root.name, 'POST /v1/chat/completions');
  assert.equal(attr(root, 'http.response.status_code'), '200');
  assert.equal(attr(root, 'gen_ai.request.model'), 'fallback');
  const children = spans.filter((s) => s !== root);
  assert.ok(children.every((s) => s.parentSpanId === root.spanId));
  const stageNames = children.filter((s) => s.kind === 1).map((s) => s.name);
  for (const name of ['identify.onRequest', 'validate.onRequest', 'authorize.onRequest', 'route.onRequest'])
    assert.ok(stageNames.includes(name), `missing ${name} in ${stageNames.join(', ')}`);

  const attempts = children.filter((s) => s.kind === 3);
  assert.equal(attempts.length, 2, 'one span per upstream attempt');
  const [failed, served] = attempts;
  assert.equal(attr(failed!, 'gen_ai.provider.name'), 'gcp.gemini');
  assert.equal(failed!.status.code, 2);
  assert.equal(served!.name, 'chat gpt-4o-mini');
  assert.equal(attr(served!, 'gen_ai.provider.name'), 'openai');
  assert.equal(attr(served!, 'gen_ai.operation.name'), 'chat');
  assert.equal(typeof attr(served!, 'gen_ai.usage.input_tokens'), 'string');
  assert.deepEqual(attr(served!, 'gen_ai.response.finish_reasons'), { values: [{ stringValue: 'stop' }] });

  // The provider saw each attempt's span id as its parent.
  const recorded = (
    (await gw.mockControl('/__mock/requests', 'GET')) as { requests: Array<{ headers: Record<string, string> }> }
  ).requests;
  const parents = recorded.map((r) => r.headers.traceparent?.split('-')[2]);
  assert.deepEqual(
    parents.slice(-2),
    attempts.map((a) => a.spanId),
  );
  assert.ok(collectorHeaders.every((h) => h === 'Bearer otlp-secret-token-123'));
  await gw.mockControl('/__mock/requests', 'DELETE');
});

test('a refused request is traced with its error code; an unsampled caller trace is not exported', async () => {
  const refusedTrace = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1';
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: 'Bearer pcl_not-a-real-key',
      'content-type': 'application/json',
      traceparent: `00-${refusedTrace}-${CLIENT_PARENT}-01`,
    },
    body: '{}',
  });
  assert.equal(res.status, 401);
  const spans = await spansOfTrace(refusedTrace, 2);
  const root = spans.find((s) => s.kind === 2)!;
  assert.equal(root.status.code, 2);
  assert.match(String(attr(root, 'error.type')), /^auth\./);
  const identify = spans.find((s) => s.name === 'identify.onRequest')!;
  assert.equal(identify.status.code, 2);

  const unsampled = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2';
  const ok = await fetch(`${gw.url}/v1/models`, {
    headers: { authorization: `Bearer ${key}`, traceparent: `00-${unsampled}-${CLIENT_PARENT}-00` },
  });
  assert.equal(ok.status, 200);
  const marker = 'ccccccccccccccccccccccccccccccc3';
  await fetch(`${gw.url}/v1/models`, {
    headers: { authorization: `Bearer ${key}`, traceparent: `00-${marker}-${CLIENT_PARENT}-01` },
  });
  await spansOfTrace(marker, 1); // exported after the unsampled one, so the latter had its chance
  assert.equal(received.filter((s) => s.traceId === unsampled).length, 0);

  // No credential of any kind in any span.
  const all = JSON.stringify(received);
  assert.ok(!all.includes(key), 'virtual key in a span');
  assert.ok(!all.includes('pcl_not-a-real-key'));
  assert.ok(!all.includes('otlp-secret-token-123'));
  assert.ok(!all.includes('trace me'), 'prompt text in a span');
});
