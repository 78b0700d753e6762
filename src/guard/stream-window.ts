/**
 * The hold-back window of one streamed text (a choice's content, a tool call's arguments).
 * Text arrives in arbitrary pieces; a match may be split over any number of them. Each detector
 * says how much of the text so far is still open for it (`pendingFrom`, see detector.ts): the
 * start of a candidate touching the end, of a number more digits could make valid, of an open
 * key block. Everything before the earliest open point of the `block` and `redact` detectors is
 * released at once, so a detector that cannot match across the current tail holds nothing;
 * a finding still open holds only from its start. A detector without `pendingFrom` holds its
 * last `maxMatchLength - 1` characters (all of the text for Infinity).
 *
 * A `block` finding throws the refusal before any of its text is released (a `certain` one, a
 * private key's header, as soon as it is seen); a `redact` finding is replaced by its
 * placeholder in the released text, and release stops short of a redacted span until the span
 * is complete. `flag` detectors hold nothing back: they read what passes and record what they
 * find. Whatever the `block` and `redact` detectors say, the trailing word is held (a combining
 * mark or the rest of the word in the next piece may change what it reads as); a window of
 * `flag` detectors only holds nothing.
 *
 * Each detector keeps its own buffer: the text it still has to judge plus CONTEXT_CHARS of
 * text it has judged, so detectors that look at a match's left neighbour (word and digit
 * boundaries, the cue words in front of a bare number) judge the same text a non-streamed
 * answer would have had. Until the first text is out, every piece is scanned at once (that is
 * the time to first token); after it, a detector rescans when the new text is at least
 * MIN_STEP characters and a quarter of what is open for it, so a long open span (a key block)
 * costs time linear in its length and later text waits at most MIN_STEP characters more.
 */
import type { GatewayError } from '../errors/gateway-error.ts';
import type { GuardFinding } from './detector.ts';
import { type EntryOutcome, type LocatedFinding, refusalFor } from './inspect.ts';
import type { GuardEntry } from './policy.ts';
import { type Placeholders, redactText } from './redact.ts';

export const CONTEXT_CHARS = 64;
/** Once the first text is out, a detector rescans after at least this much new text: each scan
 *  has a fixed cost (about a microsecond or two per detector), and a scan per token would
 *  cost more than the request's own processing. The first text goes out as soon as it is safe. */
const MIN_STEP = 24;
/** The longest trailing word held back regardless of the detectors. */
const MAX_TRAILING_WORD = 64;

export interface StreamWindowOptions {
  /** Text detectors only (judges rate the whole answer when the stream ends). */
  readonly entries: readonly GuardEntry[];
  /** Where the text sits, for events: `choices[0].delta.content`. */
  readonly path: string;
  readonly placeholders: Placeholders;
  /** Hold everything until end() (a judge must rate the whole answer first). */
  readonly holdAll?: boolean;
}

export interface StreamWindow {
  /** Adds streamed text; returns what is now safe to send (redacted). Throws the refusal on a block. */
  push(text: string): string;
  /** The stream ended: scans what is still held and returns it. Throws the refusal on a block. */
  end(): string;
  /** How many characters are held back now (for tests and measurements). */
  held(): number;
  /** Final findings and failures so far, per detector. */
  outcomes(): EntryOutcome[];
}

interface EntryState {
  readonly entry: GuardEntry;
  /** Whether this detector's open text is held back from the client (block and redact). */
  readonly holds: boolean;
  readonly findings: LocatedFinding[];
  failure: string | undefined;
  /** The text this detector still reads, from absolute offset bufStart. */
  buf: string;
  bufStart: number;
  /** Absolute offset before which this detector has judged everything. */
  doneTo: number;
  /** Absolute end of the furthest finding recorded (a shorter match inside it is not new). */
  coveredTo: number;
  /** Buffer length at the last scan. */
  scannedLength: number;
}

export function createStreamWindow(opts: StreamWindowOptions): StreamWindow {
  const states: EntryState[] = opts.entries
    .filter((e) => e.text !== undefined)
    .map((entry) => ({
      entry,
      holds: entry.action !== 'flag',
      findings: [],
      failure: undefined,
      buf: '',
      bufStart: 0,
      doneTo: 0,
      coveredTo: 0,
      scannedLength: 0,
    }));
  const anyHolds = states.some((s) => s.holds);
  /** Text not yet released, from absolute offset releasedTo. */
  let held = '';
  let releasedTo = 0;
  /** Recorded redact findings not yet released, absolute offsets. */
  let redactions: GuardFinding[] = [];

  const outcomes = (): EntryOutcome[] =>
    states.map((s) => ({
      entry: s.entry,
      direction: 'output',
      findings: [...s.findings],
      ...(s.failure === undefined ? {} : { failure: s.failure }),
    }));

  /** Scans one detector's buffer and records what is now complete. Returns a refusal, if any. */
  function scan(s: EntryState, final: boolean): GatewayError | undefined {
    const det = s.entry.text!;
    let found: GuardFinding[];
    let open: number;
    try {
      found = det.scan(s.buf);
      open = final ? s.buf.length : openFrom(det, s.buf);
    } catch (err) {
      s.failure = `detector threw: ${err instanceof Error ? err.name : 'error'}`;
      return refusalFor([{ entry: s.entry, direction: 'output', findings: [], failure: s.failure }]);
    }
    s.scannedLength = s.buf.length;
    const openAbs = s.bufStart + open;
    let refusal: GatewayError | undefined;
    for (const f of found) {
      const start = s.bufStart + f.start;
      const end = s.bufStart + f.end;
      // A piece of a recorded finding seen without its beginning.
      if (start < s.coveredTo) continue;
      // Judged before: the detector let that text go. A finding that starts there and reaches
      // text not judged yet means its hold fell short (a reading that later text changed: letters
      // spaced out, ROT13). It is taken as complete, since what it covers can no longer be held:
      // `block` refuses rather than let the rest through, `redact` replaces the part not yet
      // released. Neither can take back what went out.
      const late = start < s.doneTo;
      if (late && end <= s.doneTo) continue;
      const complete = late || start < openAbs;
      if (!complete && !(f.certain === true && s.entry.action === 'block')) continue;
      const located = { ...f, start, end };
      s.findings.push({ path: opts.path, finding: located });
      s.coveredTo = Math.max(s.coveredTo, end);
      if (s.entry.action === 'block')
        refusal ??= refusalFor([{ entry: s.entry, direction: 'output', findings: s.findings }]);
      else if (s.entry.action === 'redact')
        redactions.push(start < releasedTo ? { ...located, start: releasedTo } : located);
    }
    s.doneTo = Math.max(s.doneTo, openAbs);
    const cut = Math.max(0, s.doneTo - CONTEXT_CHARS - s.bufStart);
    if (cut > 0) {
      s.buf = s.buf.slice(cut);
      s.bufStart += cut;
      s.scannedLength -= cut;
    }
    return refusal;
  }

  /** Releases what every holding detector has judged, stopping short of an incomplete redaction. */
  function release(final: boolean): string {
    const total = releasedTo + held.length;
    let to = total;
    if (!final) {
      if (opts.holdAll === true) return '';
      for (const s of states) if (s.holds && s.failure === undefined) to = Math.min(to, s.doneTo);
      // The trailing word waits only for detectors that hold text back: `flag` detectors read
      // their own buffers whatever has been released, so a flag-only window adds no delay.
      if (anyHolds) to = Math.min(to, trailingWordStart(held) + releasedTo);
      // A redacted span goes out whole, as its placeholder: never cut one at the release point.
      for (let moved = true; moved; ) {
        moved = false;
        for (const r of redactions) {
          if (r.start < to && r.end > to) {
            to = r.start;
            moved = true;
          }
        }
      }
    }
    if (to <= releasedTo) return '';
    const n = to - releasedTo;
    const now = redactions.filter((r) => r.start < to);
    redactions = redactions.filter((r) => r.start >= to);
    const local = now.map((r) => ({ ...r, start: r.start - releasedTo, end: Math.min(r.end, to) - releasedTo }));
    const out = redactText(held.slice(0, n), local, opts.placeholders);
    held = held.slice(n);
    releasedTo = to;
    return out;
  }

  function step(final: boolean): string {
    let refusal: GatewayError | undefined;
    for (const s of states) {
      if (s.failure !== undefined) continue;
      if (!final) {
        const det = s.entry.text!;
        // Whole-text detectors without a notion of open text: judged once, at the end.
        if (det.pendingFrom === undefined && !Number.isFinite(det.maxMatchLength)) continue;
        const grown = s.buf.length - s.scannedLength;
        const openLength = s.bufStart + s.buf.length - s.doneTo;
        const minStep = releasedTo === 0 ? 1 : MIN_STEP;
        if (grown < Math.max(minStep, Math.floor((openLength - grown) / 4))) continue;
      }
      const r = scan(s, final);
      refusal ??= r;
    }
    if (refusal !== undefined) throw refusal;
    return release(final);
  }

  return {
    push(text) {
      if (text.length === 0) return '';
      held += text;
      for (const s of states) if (s.failure === undefined) s.buf += text;
      return step(false);
    },
    end() {
      return step(true);
    },
    held: () => held.length,
    outcomes,
  };
}

/** Where the detector's open text begins in `text`, by its own rule or by its longest match. */
function openFrom(det: { maxMatchLength: number; pendingFrom?(text: string): number }, text: string): number {
  if (det.pendingFrom !== undefined) {
    const at = det.pendingFrom(text);
    return Number.isInteger(at) && at >= 0 ? Math.min(at, text.length) : 0;
  }
  const n = det.maxMatchLength;
  // A nonsense length is treated as "needs everything".
  if (!Number.isFinite(n) || n < 1) return 0;
  return Math.max(0, text.length - (Math.ceil(n) - 1));
}

const WORD_UNIT = /[\p{L}\p{N}\p{M}_\u200b-\u200f\u2060-\u2064\ufeff\u00ad\ud800-\udfff]/u;
/** WORD_UNIT for the ASCII units (letters, digits, `_`), read from a table: the trailing word is
 *  found at every piece of a stream, and a Unicode pattern run per unit was about 7 % of a
 *  guarded stream's CPU. */
const ASCII_WORD_UNIT = Uint8Array.from({ length: 128 }, (_, c) => (WORD_UNIT.test(String.fromCharCode(c)) ? 1 : 0));

/** Whether the unit at `i` is a WORD_UNIT. */
function isWordUnitAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c < 128 ? ASCII_WORD_UNIT[c] === 1 : WORD_UNIT.test(text[i]!);
}

/** The start of the word (letters, digits, marks, invisibles) the text ends with, at most MAX_TRAILING_WORD back. */
function trailingWordStart(text: string): number {
  let i = text.length;
  const stop = Math.max(0, text.length - MAX_TRAILING_WORD);
  while (i > stop && isWordUnitAt(text, i - 1)) i--;
  return i;
}
