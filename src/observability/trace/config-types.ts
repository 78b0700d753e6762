/** Tracing (`tracing`); read by src/observability/trace/config.ts. */

/** OpenTelemetry traces exported over OTLP/HTTP JSON (`tracing`); off by default. */
export interface TracingConfig {
  readonly enabled: boolean;
  /** Full OTLP traces URL ('' when disabled). */
  readonly endpoint: string;
  /** Extra headers for the collector (values resolved from references; never logged). */
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
  /** Share of traces the gateway starts that are sampled (0–1); continued traces follow the caller's sampled flag. */
  readonly sampleRatio: number;
  readonly maxQueueSpans: number;
  readonly maxBatchSpans: number;
  readonly flushIntervalMs: number;
  readonly exportTimeoutMs: number;
}
