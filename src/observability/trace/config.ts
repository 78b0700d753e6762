/**
 * The `tracing` section: OpenTelemetry spans exported over OTLP/HTTP (JSON). Off unless
 * `enabled: true`; an enabled section must name its collector endpoint.
 */

import { readHeaders } from '../../config/headers.ts';
import { keysOf } from '../../config/keys.ts';
import type { ConfigReader, Located } from '../../config/reader.ts';
import type { SecretContext } from '../../config/secrets.ts';
import { TRACING_SPEC } from './config.keys.ts';
import type { TracingConfig } from './config-types.ts';

const TRACING_KEYS = keysOf(TRACING_SPEC);

export const TRACING_DEFAULTS = {
  serviceName: 'portcullis',
  sampleRatio: 1,
  maxQueueSpans: 8192,
  maxBatchSpans: 512,
  flushIntervalMs: 1000,
  exportTimeoutMs: 5000,
} as const;

export function readTracing(r: ConfigReader, at: Located, secrets: SecretContext): TracingConfig {
  const m = r.entries(at, TRACING_KEYS);
  const f = (key: (typeof TRACING_KEYS)[number]): Located => r.field(m, at, key);
  const enabled = r.bool(f('enabled'), false) ?? false;
  const endpointText = r.str(f('endpoint'), enabled ? undefined : '');
  let endpoint = '';
  if (enabled && endpointText !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpointText);
    } catch {
      /* reported below */
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      r.report(
        f('endpoint'),
        "expected an http:// or https:// URL of the collector's OTLP traces endpoint (e.g. http://127.0.0.1:4318/v1/traces)",
      );
    } else if (url.username !== '' || url.password !== '') {
      r.report(
        f('endpoint'),
        'credentials in the URL are not allowed; use a headers entry with a ${ENV_VAR} reference',
      );
    } else endpoint = url.href;
  }
  const serviceName = r.str(f('service_name'), TRACING_DEFAULTS.serviceName);
  if (serviceName !== undefined && !/^[\x21-\x7e]{1,128}$/.test(serviceName))
    r.report(f('service_name'), 'expected 1–128 printable ASCII characters without spaces');
  const maxQueueSpans = r.int(f('max_queue_spans'), {
    min: 64,
    max: 1_000_000,
    default: TRACING_DEFAULTS.maxQueueSpans,
  });
  const maxBatchSpans = r.int(f('max_batch_spans'), { min: 1, max: 10_000, default: TRACING_DEFAULTS.maxBatchSpans });
  if (maxQueueSpans !== undefined && maxBatchSpans !== undefined && maxBatchSpans > maxQueueSpans) {
    r.report(f('max_batch_spans'), `must not exceed max_queue_spans (${maxQueueSpans})`);
  }
  return {
    enabled,
    endpoint,
    headers: readHeaders(r, f('headers'), secrets),
    serviceName: serviceName ?? TRACING_DEFAULTS.serviceName,
    sampleRatio:
      r.number(f('sample_ratio'), { min: 0, max: 1, default: TRACING_DEFAULTS.sampleRatio }) ??
      TRACING_DEFAULTS.sampleRatio,
    maxQueueSpans: maxQueueSpans ?? TRACING_DEFAULTS.maxQueueSpans,
    maxBatchSpans: maxBatchSpans ?? TRACING_DEFAULTS.maxBatchSpans,
    flushIntervalMs:
      r.int(f('flush_interval_ms'), { min: 50, max: 60_000, default: TRACING_DEFAULTS.flushIntervalMs }) ??
      TRACING_DEFAULTS.flushIntervalMs,
    exportTimeoutMs:
      r.int(f('export_timeout_ms'), { min: 100, max: 60_000, default: TRACING_DEFAULTS.exportTimeoutMs }) ??
      TRACING_DEFAULTS.exportTimeoutMs,
  };
}
