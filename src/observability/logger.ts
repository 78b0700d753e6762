/**
 * Structured JSON logs (pino). Credentials are redacted by path here, once, for every log
 * line; code must still never pass a secret to the logger on purpose.
 */
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';
import { MIN_SECRET_CHARS, REDACTED } from '../core/credential-scrubber.ts';
import { createPrettyDestination, defaultColour, type LogFormat } from './pretty-log.ts';

export type Logger = PinoLogger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * What is censored in every line, and in every child logger's bindings: these fields at the top
 * level, and inside the containers of NESTED. The gateway logs no header maps or credentials by
 * design; this is the safety net for the places such fields could appear (a logged header map, a
 * provider config, an error's internal detail). Explicit names, no wildcards (pino's wildcard
 * redaction cost ~27 µs per line against ~6 µs for explicit paths).
 */
const SECRET_FIELDS = [
  'authorization',
  'apiKey',
  'api_key',
  'credential',
  'secret',
  'password',
  'token',
  'key',
  'cookie',
];
const HEADER_NAMES = ['x-api-key', 'x-goog-api-key', 'proxy-authorization', 'set-cookie'];

/** A container's secret fields, and the containers inside it. */
interface Nest {
  readonly fields: readonly string[];
  readonly inner?: Readonly<Record<string, Nest>>;
}
const HEADERS: Nest = { fields: [...SECRET_FIELDS, ...HEADER_NAMES] };
const NESTED: Readonly<Record<string, Nest>> = {
  headers: HEADERS,
  internal: { fields: SECRET_FIELDS, inner: { headers: { fields: HEADER_NAMES } } },
  provider: { fields: SECRET_FIELDS },
  config: { fields: SECRET_FIELDS },
  req: { fields: [], inner: { headers: HEADERS } },
};

/** Every censored path, in pino's path syntax: the top-level fields, then each container's. */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS,
  ...(function paths(nests: Readonly<Record<string, Nest>>, prefix: string): string[] {
    return Object.entries(nests).flatMap(([name, nest]) => [
      ...nest.fields.map((f) => (/^\w+$/.test(f) ? `${prefix}${name}.${f}` : `${prefix}${name}["${f}"]`)),
      ...(nest.inner === undefined ? [] : paths(nest.inner, `${prefix}${name}.`)),
    ]);
  })(NESTED, ''),
];

/**
 * The containers' secret fields, censored here; pino's redaction censors only the top-level
 * fields. pino redacts by top-level name: a `provider.<field>` path made it run its redactor on
 * every line with a `provider` field (every access-log line, where it is the provider's id, a
 * string), parsing the container's paths again each time (about 1 µs and 1 KB of garbage per
 * line, measured in a loop). This looks only into objects. The logged object is never changed:
 * a copy carries the censored fields.
 */
export function censorNested<T extends Record<string, unknown>>(obj: T, nests = NESTED): T {
  let out: Record<string, unknown> | undefined;
  for (const name in nests) {
    const value = obj[name];
    if (typeof value !== 'object' || value === null || !Object.hasOwn(obj, name)) continue;
    const nest = nests[name]!;
    let copy: Record<string, unknown> | undefined;
    for (const f of nest.fields) {
      if (!(f in value)) continue;
      copy ??= Object.assign(Array.isArray(value) ? [] : {}, value) as Record<string, unknown>;
      copy[f] = REDACTED;
    }
    const inner = copy ?? (value as Record<string, unknown>);
    const censored = nest.inner === undefined ? inner : censorNested(inner, nest.inner);
    if (censored !== value) {
      out ??= { ...obj };
      out[name] = censored;
    }
  }
  return (out ?? obj) as T;
}

export interface LoggerOptions {
  level: LogLevel;
  /** `json` (default) or `pretty`: readable lines for development (pretty-log.ts). */
  format?: LogFormat;
  destination?: DestinationStream;
  base?: Record<string, unknown>;
  /**
   * Secret values (the configured provider credentials) removed from every line wherever they
   * appear, as a last line of defence behind the scrubbing of provider text at its source
   * (src/core/credential-scrubber.ts). Values shorter than 8 characters are ignored.
   */
  secretValues?: Iterable<string>;
}

/**
 * The line writer hook that removes `values` from each serialized line: the raw value and its
 * JSON-escaped form (a value with a quote or backslash appears escaped in the line). A few
 * substring searches per line; no regular expression.
 */
export function secretValueFilter(values: Iterable<string>): ((line: string) => string) | undefined {
  const needles = new Set<string>();
  for (const v of values) {
    if (typeof v !== 'string' || v.length < MIN_SECRET_CHARS) continue;
    needles.add(v);
    needles.add(JSON.stringify(v).slice(1, -1));
  }
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return undefined;
  return (line) => {
    let out = line;
    for (const n of sorted) if (out.includes(n)) out = out.split(n).join(REDACTED);
    return out;
  };
}

/**
 * Access-log lines on standard output are written in batches: they gather in memory until
 * LOG_BUFFER_BYTES are waiting or LOG_FLUSH_MS have passed, then go out in one write; any
 * other line goes out at once and takes the waiting ones with it. One write per line cost
 * 10–17 µs of thread-pool hand-off on every request's access log. A clean stop (SIGTERM,
 * SIGINT, a second signal, an error exit) writes what is waiting before the process ends; a
 * hard crash (SIGKILL, out of memory) loses at most the last LOG_FLUSH_MS of access lines, up to
 * LOG_BUFFER_BYTES. The audit log does not go through here and is unaffected.
 */
export const LOG_BUFFER_BYTES = 4096;
export const LOG_FLUSH_MS = 100;

/** How every access-log line ends (server/handler.ts logs it with the message `request`). */
const ACCESS_LINE_END = '"msg":"request"}\n';

/** True for a request's access-log line: the only line batched (see bufferedStdout). */
export function isAccessLine(line: string): boolean {
  return line.endsWith(ACCESS_LINE_END);
}

interface BatchingStream {
  write(chunk: string): boolean;
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
  end(): void;
  destroyed?: boolean;
}

/**
 * Batches `boom`'s access-log lines; every other line (security events, warnings, policy
 * changes, errors: rare, and the lines an operator or alerting pipeline waits for) is handed to
 * the system at once, with whatever access lines are waiting before it, so line order holds.
 * When a write is already in flight the flush is chased: issued again as soon as it drains.
 */
export function urgentLinesUnbatched(boom: BatchingStream): DestinationStream & {
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
  end(): void;
} {
  let chasing = false;
  const chase = (): void => {
    chasing = false;
    if (boom.destroyed !== true) boom.flush();
  };
  return {
    write(line: string): void {
      boom.write(line);
      if (chasing || isAccessLine(line)) return;
      chasing = true;
      // The callback runs once the write in flight (or this flush) has drained; the second
      // flush writes what the first left waiting (sonic-boom keeps a partial batch on drain).
      boom.flush(chase);
    },
    flush: (cb) => boom.flush(cb),
    flushSync: () => boom.flushSync(),
    end: () => boom.end(),
  };
}

/**
 * The default destination: file descriptor 1, access-log lines batched (see
 * LOG_BUFFER_BYTES), every other line written at once (urgentLinesUnbatched).
 */
export function bufferedStdout(): DestinationStream {
  // pino flushes this synchronously on process exit (its on-exit hook for async destinations,
  // registered on the sonic-boom itself, so the wrapper does not hide it).
  const boom = pino.destination({ fd: 1, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS });
  return urgentLinesUnbatched(boom);
}

export function createLogger(opts: LoggerOptions): Logger {
  const filter = opts.secretValues === undefined ? undefined : secretValueFilter(opts.secretValues);
  const out = opts.destination ?? bufferedStdout();
  // Pretty lines are rewritten from the JSON pino produced, i.e. after path redaction and the
  // secret-value filter (the streamWrite hook runs before the destination sees the line).
  const toTerminal = opts.destination === undefined && process.stdout.isTTY === true;
  const destination =
    opts.format === 'pretty' ? createPrettyDestination(out, { colour: defaultColour(toTerminal) }) : out;
  const logger = pino(
    {
      level: opts.level,
      base: { service: 'portcullis', ...opts.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...SECRET_FIELDS], censor: REDACTED },
      formatters: { level: (label) => ({ level: label }), log: censorNested, bindings: censorNested },
      ...(filter === undefined ? {} : { hooks: { streamWrite: filter } }),
    },
    destination,
  );
  // A child's bindings skip the formatters (pino resets the bindings formatter for children) but
  // not the redaction; censorNested sees them here. Children are created from this instance
  // (pino's children inherit from their parent), so theirs run this too.
  const child = logger.child;
  logger.child = function (this: Logger, bindings: Record<string, unknown>, options?: object) {
    return child.call(this, censorNested(bindings), options);
  } as Logger['child'];
  return logger;
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
