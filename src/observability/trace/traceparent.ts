/**
 * W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/): strict parsing of
 * the incoming header and generation of ids. The gateway is one hop of a trace: it continues
 * the caller's trace id, gets its own span id per request, and sends a fresh parent id to the
 * provider on every upstream attempt.
 *
 *   traceparent = version "-" trace-id "-" parent-id "-" trace-flags
 *                 2 hex       32 hex        16 hex        2 hex      (lowercase only)
 */
import { randomFillSync } from 'node:crypto';

/** What a valid incoming header tells us. */
export interface ParsedTraceparent {
  readonly version: string;
  readonly traceId: string;
  /** The caller's span: the parent of the gateway's request span. */
  readonly parentId: string;
  readonly flags: number;
}

/** The trace identity of one request through the gateway. */
export interface RequestTrace {
  readonly traceId: string;
  /** The gateway's span for this request. */
  readonly spanId: string;
  /** The caller's span id when the trace was continued, else undefined (a new trace). */
  readonly parentId: string | undefined;
  /** trace-flags to propagate; only the sampled bit is kept (the one flag version 00 defines). */
  readonly flags: number;
}

export const SAMPLED_FLAG = 0x01;
const VERSION_00_LENGTH = 55;
const LOWER_HEX = /^[0-9a-f]+$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

function lowerHex(s: string, length: number): boolean {
  return s.length === length && LOWER_HEX.test(s);
}

/**
 * Parses a `traceparent` header value; undefined when absent or invalid (the caller then starts
 * a new trace, as the spec asks). Node joins a repeated header with ", ", which fails here:
 * two traceparent headers are invalid. Versions above 00 are parsed as the spec's forward
 * compatibility rule says: the version-00 fields must be there, and anything after them must
 * start with "-". Version ff is forbidden.
 */
export function parseTraceparent(header: string | readonly string[] | undefined): ParsedTraceparent | undefined {
  if (header === undefined || typeof header !== 'string') return undefined;
  const value = header.replace(/^[ \t]+|[ \t]+$/g, '');
  if (value.length < VERSION_00_LENGTH) return undefined;
  const version = value.slice(0, 2);
  if (!lowerHex(version, 2) || version === 'ff') return undefined;
  if (
    version === '00'
      ? value.length !== VERSION_00_LENGTH
      : value.length > VERSION_00_LENGTH && value[VERSION_00_LENGTH] !== '-'
  ) {
    return undefined;
  }
  if (value[2] !== '-' || value[35] !== '-' || value[52] !== '-') return undefined;
  const traceId = value.slice(3, 35);
  const parentId = value.slice(36, 52);
  const flagsHex = value.slice(53, 55);
  if (!lowerHex(traceId, 32) || traceId === ZERO_TRACE_ID) return undefined;
  if (!lowerHex(parentId, 16) || parentId === ZERO_SPAN_ID) return undefined;
  if (!lowerHex(flagsHex, 2)) return undefined;
  return { version, traceId, parentId, flags: Number.parseInt(flagsHex, 16) };
}

// Ids are drawn from a pool refilled in one CSPRNG call: a randomBytes() call per id cost more
// than the rest of the trace handling together (ids are not secrets, but must not repeat).
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let poolOffset = POOL_BYTES;

/** A random id of `bytes` bytes as lowercase hex, never all zeros (invalid per the spec). */
function randomId(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > POOL_BYTES) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const id = pool.toString('hex', poolOffset, poolOffset + bytes);
    poolOffset += bytes;
    if (!/^0+$/.test(id)) return id;
  }
}

export function newTraceId(): string {
  return randomId(16);
}

export function newSpanId(): string {
  return randomId(8);
}

/**
 * The request's trace: continues a valid incoming `traceparent` (same trace id, the caller's
 * span as parent, its sampled flag: parent-based sampling), otherwise starts a new trace,
 * sampled only when the gateway records spans (`sampleNew`, from the tracer) and it says so.
 */
export function startRequestTrace(
  header: string | readonly string[] | undefined,
  sampleNew?: () => boolean,
): RequestTrace {
  const incoming = parseTraceparent(header);
  if (incoming === undefined)
    return {
      traceId: newTraceId(),
      spanId: newSpanId(),
      parentId: undefined,
      flags: sampleNew?.() === true ? SAMPLED_FLAG : 0,
    };
  return {
    traceId: incoming.traceId,
    spanId: newSpanId(),
    parentId: incoming.parentId,
    flags: incoming.flags & SAMPLED_FLAG,
  };
}

/** A version-00 header value. */
export function formatTraceparent(traceId: string, parentId: string, flags: number): string {
  return `00-${traceId}-${parentId}-${(flags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The header for one outgoing call: same trace id, a new span id for that call. */
export function childTraceparent(trace: { readonly traceId: string; readonly flags: number }): string {
  return formatTraceparent(trace.traceId, newSpanId(), trace.flags);
}
