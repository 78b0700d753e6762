/**
 * The gateway's tracer: decides which requests are sampled, opens their spans, and hands the
 * finished spans to the OTLP exporter. Off by default; when off, the request path pays one
 * `undefined` check per stage hook.
 *
 * Attributes follow the OpenTelemetry GenAI semantic conventions for inference spans
 * (`gen_ai.operation.name`, `gen_ai.provider.name`, `gen_ai.request.model`,
 * `gen_ai.response.model`, `gen_ai.usage.*`, `gen_ai.response.finish_reasons`) and the HTTP
 * conventions for the server span. Never recorded: prompts, completions, keys, tokens, or any
 * header value.
 */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../../core/context.ts';
import type { ProviderKind } from '../../providers/contract.ts';
import type { AttemptReport } from '../../upstream/index.ts';
import type { Logger } from '../logger.ts';
import type { TracingConfig } from './config-types.ts';
import { createOtlpExporter, type OtlpExporter } from './otlp-exporter.ts';
import { type Attributes, type RequestSpans, startRequestSpans } from './spans.ts';
import { type RequestTrace, SAMPLED_FLAG } from './traceparent.ts';

export interface Tracer {
  /** For a trace the gateway starts: sample it? (Continued traces follow the caller's flag.) */
  sampleNew(): boolean;
  /** Opens the request's spans when the trace is sampled. */
  begin(trace: RequestTrace): RequestSpans | undefined;
  /** Attributes of an upstream attempt span. */
  attemptAttributes(ctx: RequestContext, report: AttemptReport): Attributes;
  /** Ends the request's spans and queues them for export. */
  finish(ctx: RequestContext, route: string): void;
  readonly exporter: OtlpExporter;
  close(): Promise<void>;
}

/** GenAI `gen_ai.provider.name` well-known values; an OpenAI-compatible server is named by its provider id. */
const GENAI_PROVIDER: Record<ProviderKind, string | undefined> = {
  openai: 'openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
  mistral: 'mistral_ai',
  'openai-compatible': undefined,
};

export function createTracer(
  config: TracingConfig,
  deps: {
    log: Logger;
    providerKind: (providerId: string) => ProviderKind | undefined;
    version: string;
    random?: () => number;
  },
): Tracer {
  const random = deps.random ?? Math.random;
  const exporter = createOtlpExporter({
    endpoint: config.endpoint,
    headers: config.headers,
    resource: { serviceName: config.serviceName, serviceVersion: deps.version, instanceId: randomUUID() },
    maxQueueSpans: config.maxQueueSpans,
    maxBatchSpans: config.maxBatchSpans,
    flushIntervalMs: config.flushIntervalMs,
    timeoutMs: config.exportTimeoutMs,
    log: deps.log,
  });
  const providerName = (providerId: string): string => {
    const kind = deps.providerKind(providerId);
    return (kind === undefined ? undefined : GENAI_PROVIDER[kind]) ?? providerId;
  };

  return {
    exporter,
    sampleNew: () => config.sampleRatio >= 1 || (config.sampleRatio > 0 && random() < config.sampleRatio),
    begin: (trace) => ((trace.flags & SAMPLED_FLAG) === 0 ? undefined : startRequestSpans(trace)),
    attemptAttributes(ctx, report) {
      const attrs: Attributes = {
        'gen_ai.operation.name': ctx.operation,
        'gen_ai.provider.name': providerName(report.target.provider),
        'gen_ai.request.model': report.target.model,
        'portcullis.provider': report.target.provider,
        'portcullis.attempt': report.attempt,
        'portcullis.attempt.result': report.result,
      };
      if (report.status !== undefined) attrs['http.response.status_code'] = report.status;
      return attrs;
    },
    finish(ctx, route) {
      const spans = ctx.spans;
      if (spans === undefined) return;
      const o = ctx.outcome;
      const attrs: Attributes = {
        'http.request.method': ctx.http.method,
        'http.route': route,
        'http.response.status_code': o.status,
        'portcullis.request_id': ctx.id,
        'gen_ai.operation.name': ctx.operation,
      };
      if (ctx.caller !== undefined) attrs['portcullis.tenant'] = ctx.caller.tenantId;
      if (ctx.route !== undefined) attrs['gen_ai.request.model'] = ctx.route.publicModel;
      if (o.errorCode !== undefined) attrs['error.type'] = o.errorCode;
      if (o.clientAborted) attrs['portcullis.client_aborted'] = true;
      if (o.attempts > 0) attrs['portcullis.attempts'] = o.attempts;
      const answer: Attributes = {};
      if (o.target !== undefined) {
        answer['gen_ai.response.model'] = o.target.model;
        attrs['gen_ai.provider.name'] = providerName(o.target.provider);
      }
      if (o.usage !== undefined) {
        answer['gen_ai.usage.input_tokens'] = o.usage.prompt_tokens;
        answer['gen_ai.usage.output_tokens'] = o.usage.completion_tokens;
      }
      if (typeof o.finishReason === 'string') answer['gen_ai.response.finish_reasons'] = [o.finishReason];
      Object.assign(attrs, answer);
      const name = `${ctx.http.method} ${route}`;
      try {
        exporter.enqueue(spans.end(name, attrs, o.errorCode, answer));
      } catch (err) {
        deps.log.error(
          { event: 'tracing.finish_failed', error: (err as Error).message },
          'could not finish request spans',
        );
      }
    },
    close: () => exporter.close(),
  };
}
