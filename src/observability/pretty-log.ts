/**
 * `logging.format: pretty`, for development: each pino JSON line (already redacted, since pino
 * redacts before it serialises) rewritten as one readable, optionally coloured line:
 *
 *   17:48:01.123 INFO  request  status=200 method=POST path=/v1/chat/completions latencyMs=12.3
 *
 * Values are printed bare when they are plain words and JSON-quoted otherwise, so a client-
 * chosen value (a path, a model name) can carry no newline or terminal escape sequence into
 * the developer's terminal. No dependency: pino-pretty would add a transport worker and a
 * dozen packages for what fits here. Production keeps `json` (the default).
 */
import type { DestinationStream } from 'pino';

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const LEVEL_COLOURS: Readonly<Record<string, string>> = {
  trace: '\u001b[90m',
  debug: '\u001b[36m',
  info: '\u001b[32m',
  warn: '\u001b[33m',
  error: '\u001b[31m',
  fatal: '\u001b[35;1m',
};
const DIM = '\u001b[2m';
const BOLD = '\u001b[1m';
const RESET = '\u001b[0m';
/** Shown first when present, in this order; the rest follow in the line's order. */
const LEADING = ['requestId', 'status', 'method', 'path', 'latencyMs', 'model', 'provider', 'errorCode', 'code'];
const HIDDEN = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);
const PLAIN = /^[\w.:/@%+=,#~^[\]-]{1,200}$/;

export interface PrettyOptions {
  /** ANSI colours (default: the target is a terminal and NO_COLOR is unset, or FORCE_COLOR is set). */
  readonly colour?: boolean;
}

/** A pino destination that writes pretty lines to `target` (a pino.destination, process.stdout…). */
export function createPrettyDestination(
  target: { write(text: string): unknown; readonly isTTY?: boolean },
  opts: PrettyOptions = {},
): DestinationStream {
  const colour = opts.colour ?? defaultColour(target.isTTY === true);
  return {
    write(line: string): void {
      target.write(formatPrettyLine(line, colour));
    },
  };
}

export function defaultColour(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY && env.TERM !== 'dumb';
}

/** One JSON log line → one readable line ending in a newline. Non-JSON input is escaped and passed on. */
export function formatPrettyLine(line: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    entry = parsed as Record<string, unknown>;
  } catch {
    return `${JSON.stringify(line.trimEnd())}\n`;
  }
  const paint = (code: string, text: string): string => (colour ? `${code}${text}${RESET}` : text);
  const level = typeof entry.level === 'string' ? entry.level : 'info';
  const time = (typeof entry.time === 'string' && /T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)/.exec(entry.time)?.[1]) || '';
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  const keys = [...LEADING.filter((k) => k in entry), ...Object.keys(entry).filter((k) => !LEADING.includes(k))].filter(
    (k) => !HIDDEN.has(k) && entry[k] !== undefined,
  );
  const fields = keys.map((k) => `${paint(DIM, `${safeKey(k)}=`)}${formatValue(entry[k])}`);
  const head = [
    paint(DIM, time),
    paint(LEVEL_COLOURS[level] ?? '', level.toUpperCase().padEnd(5)),
    msg === '' ? '' : paint(BOLD, formatText(msg)),
  ].filter((p) => p !== '');
  return `${[...head, ...fields].join(' ')}\n`;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return PLAIN.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v) ?? String(v);
}

/** A message: bare when it is plain text; JSON-quoted (control characters escaped) otherwise. */
function formatText(s: string): string {
  return PLAIN.test(s) || /^[\w .,:/'()-]{1,200}$/.test(s) ? s : JSON.stringify(s);
}

function safeKey(k: string): string {
  return PLAIN.test(k) ? k : JSON.stringify(k);
}
