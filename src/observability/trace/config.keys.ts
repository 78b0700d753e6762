/** Declared keys of the `tracing` section (read by config.ts). */
import { bool, configSection, int, mapOf, num, section, str } from '../../config/keys.ts';

export const TRACING_SPEC = configSection(
  'tracing',
  section({
    enabled: bool(false, 'export OpenTelemetry spans over OTLP/HTTP JSON (see [Observability](observability.md))'),
    endpoint: str(
      "the collector's full traces URL, e.g. `http://127.0.0.1:4318/v1/traces`; no credentials in the URL",
      { default: 'required when enabled', allowed: 'http(s) URL' },
    ),
    headers: mapOf('header', str('a header value; `${…}` references allowed'), {
      default: 'none',
      allowed: 'map of header → value',
      doc: 'extra headers for the collector; `authorization`-type headers must come from `${…}` references',
    }),
    service_name: str('the `service.name` resource attribute', {
      value: 'portcullis',
      default: '`portcullis`',
      allowed: '1–128 printable ASCII characters without spaces',
      pattern: '^[\\x21-\\x7e]{1,128}$',
    }),
    sample_ratio: num(
      0,
      1,
      1,
      "share of traces the gateway *starts* that are sampled; a caller's `traceparent` decides for traces it continues (parent-based)",
    ),
    max_queue_spans: int(
      64,
      1_000_000,
      8192,
      'spans waiting for export; beyond it new spans are dropped and counted, never held',
    ),
    max_batch_spans: int(1, 10_000, 512, 'spans per export request', { allowed: '1–10000, ≤ `max_queue_spans`' }),
    flush_interval_ms: int(50, 60_000, 1000, 'how often the queue is sent'),
    export_timeout_ms: int(
      100,
      60_000,
      5000,
      'per export request; a `429`/`502`/`503`/`504` or network error is retried once, then the batch is dropped',
    ),
  }),
);
