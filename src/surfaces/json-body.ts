/**
 * Turns a raw request body into a JSON value, refusing anything a strict parser would not
 * agree on. One linear pass over the text checks syntax, nesting depth and duplicate keys
 * before `JSON.parse` runs, so that:
 *
 * - a 1 MB `[[[[…` is refused at depth `maxDepth + 1` without building anything;
 * - syntax errors name the line and column in our own words; V8's messages quote the body,
 *   and a body can carry secrets, so they never reach the client;
 * - duplicate keys are refused. `JSON.parse` keeps the last value while other parsers keep
 *   the first, so `{"model":"cheap","model":"expensive"}` could be checked as one thing and
 *   sent upstream as another. Keys are compared after unescaping (`"\u006dodel"` is `model`).
 *   Only the open objects' key sets are held, so the cost is one Set insert per key.
 */
import { codePointAt } from '../core/code-point.ts';
import { type GatewayError, gatewayError } from '../errors/gateway-error.ts';
import { invalid, joinPath } from './validation.ts';

export interface JsonBodyOptions {
  /** Deepest accepted nesting of arrays and objects (`{}` is depth 1). */
  readonly maxDepth: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function parseJsonBody(raw: Uint8Array, opts: JsonBodyOptions): unknown {
  return parseJsonBodySource(raw, opts).value;
}

/**
 * Where a top-level member's value sits in the decoded body text: `start` is its first
 * character, `end` the index just past its last.
 */
export interface JsonSpan {
  readonly start: number;
  readonly end: number;
}

/**
 * The body's text as decoded (BOM dropped) and what the same scan that checked it learnt about
 * its layout, so that a body can be forwarded with one member's value replaced without a
 * second parser that could disagree with the first (src/providers/openai/forward.ts).
 */
export interface JsonSource {
  readonly text: string;
  /** The root is an object: the index of its closing brace. */
  readonly closeBrace: number | undefined;
  /** Top-level members' value spans, by unescaped key (only the root object's members). */
  readonly members: ReadonlyMap<string, JsonSpan>;
  /**
   * False when re-serialising the parsed value could give an upstream a different value than
   * these bytes do: a `null` anywhere (validation reads null as "not set" and leaves the member
   * out), or a number whose text is not exactly what JSON.stringify writes for it (`1e2`, `1.50`,
   * `-0`, or an integer beyond double precision that a parser with big integers reads apart).
   */
  readonly sameWhenReserialised: boolean;
}

export function parseJsonBodySource(raw: Uint8Array, opts: JsonBodyOptions): { value: unknown; source: JsonSource } {
  if (!Number.isInteger(opts.maxDepth) || opts.maxDepth < 1) throw new RangeError('maxDepth must be an integer >= 1');
  let text: string;
  try {
    // With ignoreBOM false the decoder drops a leading BOM instead of returning it.
    text = utf8.decode(raw);
  } catch {
    throw badJson('the body is not valid UTF-8');
  }
  if (/^[ \t\r\n]*$/.test(text)) throw badJson('empty body');
  const source = scanJson(text, opts.maxDepth);
  try {
    return { value: JSON.parse(text), source };
  } catch {
    // The scan accepts exactly RFC 8259 JSON, so this is unreachable; still never echo V8's text.
    throw badJson('the body could not be parsed');
  }
}

function badJson(detail: string): GatewayError {
  return gatewayError('request.invalid_json', { params: { detail } });
}

// What the scanner expects next.
const VALUE = 0;
const VALUE_OR_END_ARRAY = 1;
const KEY = 2;
const KEY_OR_END_OBJECT = 3;
const COLON = 4;
const COMMA_OR_END = 5;
const DONE = 6;

interface ObjectFrame {
  readonly kind: 'object';
  keys: Set<string> | undefined;
  firstKey: string | undefined;
  key: string;
}
interface ArrayFrame {
  readonly kind: 'array';
  index: number;
}
type Frame = ObjectFrame | ArrayFrame;

const CH_QUOTE = 0x22;
const CH_BACKSLASH = 0x5c;

/**
 * Validates `text` as one JSON value and notes its layout (JsonSource). Throws a GatewayError
 * at the first problem.
 */
function scanJson(text: string, maxDepth: number): JsonSource {
  const stack: Frame[] = [];
  let expect = VALUE;
  let i = 0;
  const n = text.length;
  const fail = (detail: string, at: number): never => {
    throw badJson(`${detail} at ${lineColumn(text, at)}`);
  };
  const members = new Map<string, JsonSpan>();
  let closeBrace: number | undefined;
  let sameWhenReserialised = true;
  /** Where the current top-level member's value began (-1: not inside one). */
  let memberStart = -1;
  // Called with `i` just past the value that ended.
  const afterValue = (): number => {
    if (stack.length === 0) return DONE;
    if (stack.length === 1 && memberStart !== -1) {
      const frame = stack[0] as Frame;
      if (frame.kind === 'object') members.set(frame.key, { start: memberStart, end: i });
      memberStart = -1;
    }
    return COMMA_OR_END;
  };

  for (;;) {
    while (i < n && isWhitespace(text.charCodeAt(i))) i++;
    if (i >= n) {
      if (expect === DONE) return { text, closeBrace, members, sameWhenReserialised };
      fail('unexpected end of input', i);
    }
    const c = text.charCodeAt(i);
    switch (expect) {
      case VALUE:
      case VALUE_OR_END_ARRAY: {
        if (expect === VALUE && stack.length === 1 && stack[0]!.kind === 'object') memberStart = i;
        if (c === 0x5d /* ] */ && expect === VALUE_OR_END_ARRAY) {
          stack.pop();
          i++;
          expect = afterValue();
        } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
          if (stack.length >= maxDepth) throw gatewayError('request.too_deep', { params: { limit: maxDepth } });
          stack.push(
            c === 0x7b
              ? { kind: 'object', keys: undefined, firstKey: undefined, key: '' }
              : { kind: 'array', index: 0 },
          );
          i++;
          expect = c === 0x7b ? KEY_OR_END_OBJECT : VALUE_OR_END_ARRAY;
        } else if (c === CH_QUOTE) {
          i = scanString(text, i, fail);
          expect = afterValue();
        } else if (c === 0x2d /* - */ || isDigit(c)) {
          const start = i;
          i = scanNumber(text, i, fail);
          if (sameWhenReserialised) {
            const token = text.slice(start, i);
            sameWhenReserialised = String(Number(token)) === token;
          }
          expect = afterValue();
        } else if (text.startsWith('true', i) || text.startsWith('null', i)) {
          if (c === 0x6e /* n */) sameWhenReserialised = false;
          i += 4;
          expect = afterValue();
        } else if (text.startsWith('false', i)) {
          i += 5;
          expect = afterValue();
        } else {
          fail(`unexpected ${describeChar(text, i)}`, i);
        }
        break;
      }
      case KEY:
      case KEY_OR_END_OBJECT: {
        const frame = stack[stack.length - 1] as ObjectFrame;
        if (c === 0x7d /* } */ && expect === KEY_OR_END_OBJECT) {
          if (stack.length === 1) closeBrace = i;
          stack.pop();
          i++;
          expect = afterValue();
          break;
        }
        if (c !== CH_QUOTE) fail(`expected a property name in double quotes, got ${describeChar(text, i)}`, i);
        const end = scanString(text, i, fail);
        const key = decodeKey(text, i, end);
        if (isDuplicate(frame, key)) throw invalid(pathOf(stack, key), 'duplicate key; each key may appear only once');
        frame.key = key;
        i = end;
        expect = COLON;
        break;
      }
      case COLON:
        if (c !== 0x3a /* : */) fail(`expected ':' after a property name, got ${describeChar(text, i)}`, i);
        i++;
        expect = VALUE;
        break;
      case COMMA_OR_END: {
        const frame = stack[stack.length - 1] as Frame;
        const close = frame.kind === 'object' ? 0x7d : 0x5d;
        if (c === 0x2c /* , */) {
          i++;
          if (frame.kind === 'array') frame.index++;
          expect = frame.kind === 'object' ? KEY : VALUE;
        } else if (c === close) {
          if (stack.length === 1 && frame.kind === 'object') closeBrace = i;
          stack.pop();
          i++;
          expect = afterValue();
        } else {
          fail(`expected ',' or '${frame.kind === 'object' ? '}' : ']'}', got ${describeChar(text, i)}`, i);
        }
        break;
      }
      default:
        fail(`unexpected ${describeChar(text, i)} after the JSON value`, i);
    }
  }
}

/** A run of string characters that need no attention; the regex engine skips it far faster than a loop. */
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;

/** Returns the index just past the closing quote of the string starting at `start`. */
function scanString(text: string, start: number, fail: (detail: string, at: number) => never): number {
  let i = start + 1;
  for (;;) {
    PLAIN_RUN.lastIndex = i;
    PLAIN_RUN.test(text);
    i = PLAIN_RUN.lastIndex;
    if (i >= text.length) fail('unterminated string', start);
    const c = text.charCodeAt(i);
    if (c === CH_QUOTE) return i + 1;
    if (c < 0x20) fail('control character in string (escape it)', i);
    if (c === CH_BACKSLASH) {
      const e = text.charCodeAt(i + 1);
      if (e === 0x75 /* u */) {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('invalid \\u escape in string', i);
        i += 6;
      } else if (
        e === CH_QUOTE ||
        e === CH_BACKSLASH ||
        e === 0x2f ||
        e === 0x62 ||
        e === 0x66 ||
        e === 0x6e ||
        e === 0x72 ||
        e === 0x74
      ) {
        i += 2;
      } else {
        fail('invalid escape in string', i);
      }
    } else {
      i++;
    }
  }
}

function scanNumber(text: string, start: number, fail: (detail: string, at: number) => never): number {
  let i = start;
  if (text.charCodeAt(i) === 0x2d) i++;
  if (text.charCodeAt(i) === 0x30) {
    i++;
  } else if (isDigit(text.charCodeAt(i))) {
    while (isDigit(text.charCodeAt(i))) i++;
  } else {
    fail('invalid number', start);
  }
  if (text.charCodeAt(i) === 0x2e /* . */) {
    i++;
    if (!isDigit(text.charCodeAt(i))) fail('invalid number', start);
    while (isDigit(text.charCodeAt(i))) i++;
  }
  const e = text.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === 0x2b || sign === 0x2d) i++;
    if (!isDigit(text.charCodeAt(i))) fail('invalid number', start);
    while (isDigit(text.charCodeAt(i))) i++;
  }
  return i;
}

/** The key's value after unescaping; `start` is the opening quote, `end` is past the closing one. */
function decodeKey(text: string, start: number, end: number): string {
  const inner = text.slice(start + 1, end - 1);
  return inner.includes('\\') ? (JSON.parse(text.slice(start, end)) as string) : inner;
}

function isDuplicate(frame: ObjectFrame, key: string): boolean {
  // Most objects have few keys: hold the first key alone and build a Set from the second on.
  if (frame.firstKey === undefined) {
    frame.firstKey = key;
    return false;
  }
  if (frame.keys === undefined) frame.keys = new Set([frame.firstKey]);
  if (frame.keys.has(key)) return true;
  frame.keys.add(key);
  return false;
}

function pathOf(stack: readonly Frame[], lastKey: string): string {
  let path = '';
  for (let d = 0; d < stack.length - 1; d++) {
    const f = stack[d] as Frame;
    path = joinPath(path, f.kind === 'array' ? f.index : shortKey(f.key));
  }
  return joinPath(path, shortKey(lastKey));
}

function shortKey(key: string): string {
  return key.length > 64 ? `${key.slice(0, 64)}…` : key;
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** One character, shown safely: printable ASCII quoted, anything else as its code point. */
function describeChar(text: string, i: number): string {
  const cp = i < text.length ? codePointAt(text, i) : 0;
  if (cp > 0x20 && cp < 0x7f && cp !== 0x27) return `character '${String.fromCodePoint(cp)}'`;
  return `character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

function lineColumn(text: string, at: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line} column ${at - lineStart + 1}`;
}
