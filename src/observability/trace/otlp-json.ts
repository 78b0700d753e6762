/**
 * OTLP/HTTP JSON encoding of finished spans (opentelemetry-proto `ExportTraceServiceRequest`,
 * JSON mapping): trace and span ids as lowercase hex, enums as integers, 64-bit integers and
 * nanosecond times as decimal strings.
 */
import type { Attributes, AttributeValue, FinishedSpan, SpanKind } from './spans.ts';

const KIND: Record<SpanKind, number> = { internal: 1, server: 2, client: 3 };
const STATUS_UNSET = 0;
const STATUS_ERROR = 2;

type AnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: AnyValue[] } };

function anyValue(v: AttributeValue): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  return { arrayValue: { values: v.map((s) => ({ stringValue: s })) } };
}

export function encodeAttributes(attrs: Attributes): Array<{ key: string; value: AnyValue }> {
  return Object.entries(attrs).map(([key, value]) => ({ key, value: anyValue(value) }));
}

export interface ResourceInfo {
  readonly serviceName: string;
  readonly serviceVersion: string;
  readonly instanceId: string;
}

export function encodeExportRequest(spans: readonly FinishedSpan[], resource: ResourceInfo): unknown {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: encodeAttributes({
            'service.name': resource.serviceName,
            'service.version': resource.serviceVersion,
            'service.instance.id': resource.instanceId,
          }),
        },
        scopeSpans: [
          {
            scope: { name: 'portcullis', version: resource.serviceVersion },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId === undefined ? {} : { parentSpanId: s.parentSpanId }),
              name: s.name,
              kind: KIND[s.kind],
              startTimeUnixNano: s.startTimeUnixNano,
              endTimeUnixNano: s.endTimeUnixNano,
              attributes: encodeAttributes(s.attributes),
              status:
                s.status.code === 'error'
                  ? { code: STATUS_ERROR, message: s.status.message ?? '' }
                  : { code: STATUS_UNSET },
            })),
          },
        ],
      },
    ],
  };
}
