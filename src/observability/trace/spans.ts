/**
 * Spans for one request, recorded cheaply while it runs and handed to the exporter once it
 * ends. The gateway's request span (SERVER) is the parent of one INTERNAL span per stage hook
 * and one CLIENT span per upstream attempt; an attempt span's id is the parent id the
 * provider received in `traceparent`, so the provider's own spans hang under it.
 *
 * Times are `performance.now()` readings, turned into Unix nanoseconds only at the end.
 */
import { newSpanId } from './traceparent.ts';

export type SpanKind = 'internal' | 'server' | 'client';
export type AttributeValue = string | number | boolean | readonly string[];
export type Attributes = Record<string, AttributeValue>;

export interface FinishedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: SpanKind;
  /** Unix epoch nanoseconds, as decimal strings (they exceed 2^53). */
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: Attributes;
  /** 'error' with a message (a catalogue code, never internal detail) or 'unset'. */
  readonly status: { readonly code: 'unset' | 'error'; readonly message?: string };
}

interface OpenSpan {
  spanId: string;
  name: string;
  kind: SpanKind;
  start: number;
  end: number | undefined;
  attributes: Attributes;
  error: string | undefined;
}

export interface RequestSpans {
  readonly traceId: string;
  readonly spanId: string;
  /** Times one stage hook (`identify.onRequest`); the error is the code it refused with, if any. */
  stage(stage: string, hook: string, start: number, end: number, errorCode?: string): void;
  /** Opens a CLIENT span for an upstream attempt; returns its id (the parent id to send upstream). */
  startAttempt(): string;
  /** Closes the oldest open attempt span with what the attempt loop reported. */
  endAttempt(attrs: Attributes, errorCode: string | undefined): void;
  /**
   * Ends the request span with its final attributes; `answerAttrs` (usage, finish reasons: only
   * known once the response is complete) also go on the attempt that answered. Returns every
   * span, request span first.
   */
  end(name: string, attrs: Attributes, errorCode: string | undefined, answerAttrs?: Attributes): FinishedSpan[];
}

/** Span limits keep a pathological request (many retries) from growing a trace without bound. */
const MAX_SPANS_PER_REQUEST = 64;

export function startRequestSpans(
  trace: { traceId: string; spanId: string; parentId: string | undefined },
  now: () => number = () => performance.now(),
): RequestSpans {
  const start = now();
  const children: OpenSpan[] = [];
  const openAttempts: OpenSpan[] = [];
  const add = (span: OpenSpan): boolean => {
    if (children.length >= MAX_SPANS_PER_REQUEST) return false;
    children.push(span);
    return true;
  };
  return {
    traceId: trace.traceId,
    spanId: trace.spanId,
    stage(stage, hook, s, e, errorCode) {
      add({
        spanId: newSpanId(),
        name: `${stage}.${hook}`,
        kind: 'internal',
        start: s,
        end: e,
        attributes: { 'portcullis.stage': stage },
        error: errorCode,
      });
    },
    startAttempt() {
      const span: OpenSpan = {
        spanId: newSpanId(),
        name: 'upstream attempt',
        kind: 'client',
        start: now(),
        end: undefined,
        attributes: {},
        error: undefined,
      };
      if (add(span)) openAttempts.push(span);
      return span.spanId;
    },
    endAttempt(attrs, errorCode) {
      const span = openAttempts.shift();
      if (span === undefined) return;
      span.end = now();
      span.attributes = attrs;
      span.error = errorCode;
      const op = attrs['gen_ai.operation.name'];
      const model = attrs['gen_ai.request.model'];
      if (typeof op === 'string' && typeof model === 'string') span.name = `${op} ${model}`;
    },
    end(name, attrs, errorCode, answerAttrs) {
      const end = now();
      if (answerAttrs !== undefined) {
        const answered = children.findLast((c) => c.kind === 'client' && c.error === undefined && c.end !== undefined);
        if (answered !== undefined) Object.assign(answered.attributes, answerAttrs);
      }
      const root: OpenSpan = {
        spanId: trace.spanId,
        name,
        kind: 'server',
        start,
        end,
        attributes: attrs,
        error: errorCode,
      };
      const finish = (s: OpenSpan, parent: string | undefined): FinishedSpan => ({
        traceId: trace.traceId,
        spanId: s.spanId,
        parentSpanId: parent,
        name: s.name,
        kind: s.kind,
        startTimeUnixNano: toUnixNano(s.start),
        // An attempt still open here was abandoned (client gone): it ends with the request.
        endTimeUnixNano: toUnixNano(s.end ?? end),
        attributes: s.attributes,
        status: s.error === undefined ? { code: 'unset' } : { code: 'error', message: s.error },
      });
      return [finish(root, trace.parentId), ...children.map((c) => finish(c, trace.spanId))];
    },
  };
}

/** performance.now() milliseconds → Unix epoch nanoseconds (microsecond precision). */
export function toUnixNano(perfMs: number): string {
  const micros = BigInt(Math.round((performance.timeOrigin + perfMs) * 1000));
  return (micros * 1000n).toString();
}
