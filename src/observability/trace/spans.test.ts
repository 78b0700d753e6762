import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeExportRequest } from './otlp-json.ts';
import { startRequestSpans, toUnixNano } from './spans.ts';

const TRACE = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), parentId: 'c'.repeat(16) };

test('stage and attempt spans are children of the request span, which continues the caller', () => {
  let t = 1000;
  const spans = startRequestSpans(TRACE, () => t);
  spans.stage('identify', 'onRequest', 1000, 1001);
  spans.stage('validate', 'onRequest', 1001, 1002, 'request.invalid');
  const first = spans.startAttempt();
  t = 1010;
  spans.endAttempt({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini' }, 'upstream.timeout');
  const second = spans.startAttempt();
  t = 1020;
  spans.endAttempt({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini' }, undefined);
  t = 1030;
  const out = spans.end('POST /v1/chat/completions', { 'http.response.status_code': 200 }, undefined, {
    'gen_ai.usage.input_tokens': 7,
  });
  const [root, ...children] = out;
  assert.equal(root!.spanId, TRACE.spanId);
  assert.equal(root!.parentSpanId, TRACE.parentId);
  assert.equal(root!.kind, 'server');
  assert.ok(children.every((c) => c.parentSpanId === TRACE.spanId && c.traceId === TRACE.traceId));
  assert.deepEqual(
    children.map((c) => c.name),
    ['identify.onRequest', 'validate.onRequest', 'chat gpt-4o-mini', 'chat gpt-4o-mini'],
  );
  assert.deepEqual(children[1]!.status, { code: 'error', message: 'request.invalid' });
  const attempts = children.filter((c) => c.kind === 'client');
  assert.deepEqual(
    attempts.map((a) => a.spanId),
    [first, second],
  );
  assert.equal(attempts[0]!.status.code, 'error');
  // Usage lands on the attempt that answered, not on the failed one.
  assert.equal(attempts[1]!.attributes['gen_ai.usage.input_tokens'], 7);
  assert.equal(attempts[0]!.attributes['gen_ai.usage.input_tokens'], undefined);
  assert.equal(BigInt(root!.endTimeUnixNano) - BigInt(root!.startTimeUnixNano), 30_000_000n);
});

test('a request cannot grow its trace without bound', () => {
  const spans = startRequestSpans(TRACE);
  for (let i = 0; i < 500; i++) spans.stage('limit', 'onRequest', 0, 1);
  assert.ok(spans.end('x', {}, undefined).length <= 65);
});

/** The parts of an OTLP/JSON export request the test reads. */
interface OtlpExportBody {
  resourceSpans: {
    resource: { attributes: { key: string; value: unknown }[] };
    scopeSpans: {
      spans: {
        traceId: string;
        parentSpanId: string;
        kind: number;
        startTimeUnixNano: string;
        status: unknown;
        attributes: { key: string; value: unknown }[];
      }[];
    }[];
  }[];
}

test('OTLP JSON: hex ids, integer enums, int64 as strings, arrays', () => {
  const spans = startRequestSpans(TRACE);
  const body = encodeExportRequest(
    spans.end('POST /v1/chat/completions', { n: 3, r: 0.5, ok: true, fr: ['stop'] }, 'auth.invalid_key'),
    {
      serviceName: 'portcullis',
      serviceVersion: '1.2.3',
      instanceId: 'i-1',
    },
  ) as OtlpExportBody;
  const span = body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
  assert.equal(span.traceId, TRACE.traceId);
  assert.equal(span.parentSpanId, TRACE.parentId);
  assert.equal(span.kind, 2);
  assert.match(span.startTimeUnixNano, /^\d{19}$/);
  assert.deepEqual(span.status, { code: 2, message: 'auth.invalid_key' });
  const attr = (k: string) => span.attributes.find((a) => a.key === k)!.value;
  assert.deepEqual(attr('n'), { intValue: '3' });
  assert.deepEqual(attr('r'), { doubleValue: 0.5 });
  assert.deepEqual(attr('ok'), { boolValue: true });
  assert.deepEqual(attr('fr'), { arrayValue: { values: [{ stringValue: 'stop' }] } });
  const service = body.resourceSpans[0]!.resource.attributes.find((a) => a.key === 'service.name');
  assert.deepEqual(service!.value, { stringValue: 'portcullis' });
});

test('times convert to Unix nanoseconds', () => {
  const ns = BigInt(toUnixNano(performance.now()));
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const diff = ns > nowNs ? ns - nowNs : nowNs - ns;
  assert.ok(diff < 5_000_000_000n, `clock mismatch: ${diff} ns`);
});
