/**
 * The hold-back window of one streamed text (a choice's content, a tool call's arguments).
 * Text arrives in arbitrary pieces; a match may be split over any number of them. The window
 * releases text only once no match can still cover it: with L the longest match any active
 * detector can produce (`maxMatchLength`), a finding that starts more than L-1 characters
 * before the current end cannot grow any further, so everything before `end - (L - 1)` is
 * final. The window holds back that tail (releasing in steps of a quarter window, so that
 * scanning stays linear in the text), plus the span of a final finding that straddles the
 * boundary. A `block` finding throws the refusal before any of its text is
 * released; a `redact` finding is replaced by its placeholder in the released text. Detectors
 * with L = Infinity (whole-text scoring) hold everything until the stream ends.
 *
 * A little already-released text (CONTEXT_CHARS) is kept in front of the held text when
 * scanning, so detectors that look at a match's left neighbour (word and digit boundaries)
 * judge the same text a non-streamed answer would have had.
 */
import type { GatewayError } from '../errors/gateway-error.ts';
import type { GuardFinding } from './detector.ts';
import { type EntryOutcome, type LocatedFinding, refusalFor } from './inspect.ts';
import type { GuardEntry } from './policy.ts';
import { type Placeholders, redactText } from './redact.ts';

export const CONTEXT_CHARS = 32;
const MIN_STEP = 16;

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
  /** The window size: the longest match of its detectors (Infinity: hold to the end). */
  readonly holdBack: number;
  /** Adds streamed text; returns what is now safe to send (redacted). Throws the refusal on a block. */
  push(text: string): string;
  /** The stream ended: scans what is still held and returns it. Throws the refusal on a block. */
  end(): string;
  /** Final findings and failures so far, per detector. */
  outcomes(): EntryOutcome[];
}

interface EntryState {
  readonly entry: GuardEntry;
  readonly findings: LocatedFinding[];
  failure: string | undefined;
}

export function createStreamWindow(opts: StreamWindowOptions): StreamWindow {
  const states: EntryState[] = opts.entries
    .filter((e) => e.text !== undefined)
    .map((entry) => ({ entry, findings: [], failure: undefined }));
  const holdBack =
    opts.holdAll === true
      ? Infinity
      : states.reduce((m, s) => Math.max(m, sanitizeLength(s.entry.text!.maxMatchLength)), 1);
  let held = '';
  /** Tail of what was released (after redaction), scanned as left context. */
  let context = '';
  /** Absolute offset (in the original text) of held[0]. */
  let offset = 0;
  // Each scan reads the whole window; scanning on every token would cost O(window) per token.
  // Scanning once a quarter window of new text is final keeps the work linear in the text
  // (about five reads of each character) and delays release by at most that quarter.
  const step = Number.isFinite(holdBack) ? Math.max(MIN_STEP, Math.ceil(holdBack / 4)) : Infinity;

  const outcomes = (): EntryOutcome[] =>
    states.map((s) => ({
      entry: s.entry,
      direction: 'output',
      findings: [...s.findings],
      ...(s.failure === undefined ? {} : { failure: s.failure }),
    }));

  function release(final: boolean): string {
    const safe = final ? held.length : held.length - (holdBack - 1);
    if (safe <= 0) return '';
    const scanned = context + held;
    const base = context.length;
    let releaseTo = safe;
    const toRedact: GuardFinding[] = [];
    let refusal: GatewayError | undefined;
    for (const s of states) {
      if (s.failure !== undefined) continue;
      let found: GuardFinding[];
      try {
        found = s.entry.text!.scan(scanned);
      } catch (err) {
        s.failure = `detector threw: ${err instanceof Error ? err.name : 'error'}`;
        refusal ??= refusalFor([{ entry: s.entry, direction: 'output', findings: [], failure: s.failure }]);
        continue;
      }
      for (const f of found) {
        const start = Math.max(f.start - base, 0);
        const end = f.end - base;
        // Already released (handled when it was held), or not final yet (may still grow).
        if (end <= 0 || start >= safe) continue;
        if (end > releaseTo) releaseTo = Math.min(end, held.length);
        const local = { ...f, start, end: Math.min(end, held.length) };
        s.findings.push({
          path: opts.path,
          finding: { ...local, start: local.start + offset, end: local.end + offset },
        });
        if (s.entry.action === 'block')
          refusal ??= refusalFor([{ entry: s.entry, direction: 'output', findings: s.findings }]);
        else if (s.entry.action === 'redact') toRedact.push(local);
      }
    }
    if (refusal !== undefined) throw refusal;
    const spans = toRedact.filter((f) => f.start < releaseTo).map((f) => ({ ...f, end: Math.min(f.end, releaseTo) }));
    const out = redactText(held.slice(0, releaseTo), spans, opts.placeholders);
    held = held.slice(releaseTo);
    offset += releaseTo;
    context = (context + out).slice(-CONTEXT_CHARS);
    return out;
  }

  return {
    holdBack,
    push(text) {
      if (text.length === 0) return '';
      held += text;
      // Whole-text detectors: nothing is final before the end, and rescanning would be quadratic.
      if (!Number.isFinite(holdBack)) return '';
      // The first text goes out as soon as a little is final: that is the time to first token.
      if (held.length - (holdBack - 1) < (offset === 0 ? MIN_STEP : step)) return '';
      return release(false);
    },
    end() {
      return release(true);
    },
    outcomes,
  };
}

function sanitizeLength(n: number): number {
  if (n === Infinity) return Infinity;
  return Number.isFinite(n) && n >= 1 ? Math.ceil(n) : Infinity; // a nonsense length is treated as "needs everything"
}
