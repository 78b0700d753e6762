/**
 * The prompt-injection and jailbreak detector: a score in 0..1 for a whole text, from cues of
 * instruction override, jailbreak personas, system-prompt extraction and injections addressed
 * to a model inside documents or tool results (./cues.ts), in English, German, French,
 * Spanish and Chinese.
 *
 * Scoring is a noisy-OR: each distinct cue found is independent evidence with its weight w,
 * and the text scores 1 − Π(1 − w). Obfuscation raises it: when a cue was hidden (leetspeak
 * or spaced letters in it, invisible characters, tag characters or homoglyphs inside its
 * words, or it was found only in ROT13 or a base64/hex payload), the effort to hide it is
 * itself evidence, worth OBFUSCATION_WEIGHT more. Obfuscation elsewhere in the text, or
 * without a cue, counts for nothing: encoded data, leet-looking identifiers and invisible
 * characters are common in benign text.
 *
 * Findings are the cue spans (merged), reported only when the score reaches the threshold,
 * each carrying the text's score. The score depends on the whole text, so maxMatchLength is
 * Infinity: a stream is judged when the stage decides the text is complete.
 */
import { gatewayError } from '../../errors/gateway-error.ts';
import { patternFacts } from '../deny-list/pattern-facts.ts';
import type { GuardFinding, TextDetector } from '../detector.ts';
import {
  type NormalizedText,
  normalizeForScan,
  originalOffset,
  toOriginalSpan,
  trailingRunStart,
} from '../normalize.ts';
import { CUES, type Cue } from './cues.ts';
import { encodedCandidates, looksRot13 } from './decode.ts';
import { type FoldedText, foldForCues, isSpacer, rot13 } from './fold.ts';
import {
  CUES_WITHOUT_TRIGGERS,
  LINE_START_CUES,
  matchCues,
  mayBeRot13,
  TRIGGER_WORDS,
  triggerNodeAt,
  triggerStartsFrom,
} from './match.ts';

export interface InjectionDetectorOptions {
  /** Findings are reported when the text's score is at least this (0 < threshold ≤ 1). */
  readonly threshold?: number;
}

/** Chosen on the development corpus and the project's own items (see bench/guard.ts): the
 *  point where one strong cue, or two weak ones together, is enough. */
export const DEFAULT_INJECTION_THRESHOLD = 0.5;
const OBFUSCATION_WEIGHT = 0.3;
/** Decoded payloads are scanned once more (an encoded text inside an encoded text), no deeper. */
const MAX_DECODE_DEPTH = 2;

interface CueHit {
  readonly cue: Cue;
  /** Span in the normalized text. */
  readonly start: number;
  readonly end: number;
}

interface Evidence {
  hits: CueHit[];
  obfuscated: boolean;
  /** Characters of decoded payloads still allowed to be scanned for this text. */
  decodeBudget: number;
}

/** Decoded payloads scanned per text, in characters: bounds the work a flood of them can cause. */
const DECODE_BUDGET = 256 * 1024;

export function createInjectionDetector(opts: InjectionDetectorOptions = {}): TextDetector {
  const threshold = opts.threshold ?? DEFAULT_INJECTION_THRESHOLD;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold <= 0 || threshold > 1) {
    throw gatewayError('guard.invalid_detector', {
      params: { path: 'injection.threshold', detail: 'expected a number greater than 0 and at most 1' },
    });
  }
  return {
    name: 'injection',
    maxMatchLength: Infinity,
    scan(original) {
      const a = analyse(original);
      last = original.length <= MEMO_MAX_CHARS ? a : undefined;
      const { score, spans } = scoreOf(a);
      if (score < threshold) return [];
      return spans.map(
        // More text only adds cues: once over the threshold, the text is an injection.
        (s): GuardFinding => ({
          detector: 'injection',
          type: 'PROMPT_INJECTION',
          start: s.start,
          end: s.end,
          score,
          certain: true,
        }),
      );
    },
    pendingFrom(original) {
      const a = last !== undefined && last.original === original ? last : analyse(original);
      last = undefined;
      return pendingOf(a);
    },
  };
}

/** What scan() and pendingFrom() both start from: the normalized text, the cues found in it and
 *  its folded view. */
interface Analysis {
  readonly original: string;
  readonly norm: NormalizedText;
  readonly evidence: Evidence;
  readonly folded: FoldedText;
}

/**
 * The analysis of the text scanned last, kept for the pendingFrom() call that follows. A stream
 * window scans a detector's buffer and then asks where its open text begins, with the same
 * string; both answers come from one analysis, which used to be computed twice. scan() and
 * pendingFrom() are synchronous, so nothing runs between the two calls of one window step; a
 * pendingFrom() of another text computes its own. pendingFrom() takes the entry (a scan() of
 * the same text again computes afresh, as a benchmark looping over one text expects), and only
 * a short text is kept (a stream buffer on ordinary text is a hundred characters or so).
 */
let last: Analysis | undefined;
const MEMO_MAX_CHARS = 4096;

function analyse(original: string): Analysis {
  const norm = normalizeForScan(original);
  const evidence: Evidence = { hits: [], obfuscated: false, decodeBudget: DECODE_BUDGET };
  const folded = collect(norm.text, evidence, 0, undefined);
  return { original, norm, evidence, folded };
}

/** The longest stretch a cue is taken to cover after its trigger word, in folded characters. */
export const MAX_CUE_SPAN = 300;
/**
 * Where the run of single letters spaced out that the text ends with begins (`… y o u   a r e   n
 * o `), or text.length when it does not end in one: letters standing alone (no letter on either
 * side), each followed by spacers or whitespace, up to the end, looked for at most `maxBack`
 * units back. A stream holds such a run whole. The folded view joins spaced letters into words
 * once one run of four letters or more is in the text, so `y o u   a r e   n o` may still become
 * `you are no` when `l o n g e r` comes; released before, its first letters would be text the
 * window has judged, and the window skips a finding that starts there (spelled out like this,
 * the project's attack items streamed through in pieces of a few units). A single letter and a
 * spacer at the end (`I `) is held too, until the next word shows it is no such run.
 */
function spacedRunStart(text: string, maxBack: number): number {
  const n = text.length;
  const stop = Math.max(0, n - maxBack);
  let start = n;
  let i = n;
  while (i > stop) {
    let k = i;
    while (k > stop && isSpacerOrSpace(text.charCodeAt(k - 1))) k--;
    // A letter standing alone must end here: followed by spacers, or the text's last unit.
    if (k === i && i !== n) break;
    if (k === stop || !isAsciiLetter(text.charCodeAt(k - 1))) break;
    if (k >= 2 && isAsciiLetter(text.charCodeAt(k - 2))) break;
    start = k - 1;
    i = k - 1;
  }
  // Held only once a spacer follows a letter (a text ending in a letter is its trailing token).
  return (start < n && isSpacerOrSpace(text.charCodeAt(n - 1))) || start < n - 1 ? start : n;
}
const isAsciiLetter = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
/** The folded view's spacers (fold.ts) and whitespace, which separates spaced-out words. */
const isSpacerOrSpace = (c: number) => isSpacer(c) || c === 10 || c === 13 || c === 9;
const isEncodedChar = (c: number) =>
  (c >= 48 && c <= 57) ||
  (c >= 65 && c <= 90) ||
  (c >= 97 && c <= 122) ||
  c === 43 ||
  c === 47 ||
  c === 61 ||
  c === 95 ||
  c === 45;
const isHexishChar = (c: number) =>
  (c >= 48 && c <= 57) ||
  (c >= 65 && c <= 70) ||
  (c >= 97 && c <= 102) ||
  c === 32 ||
  c === 10 ||
  c === 9 ||
  c === 44 ||
  c === 58 ||
  c === 120 ||
  c === 37 ||
  c === 92;
const isLowerAlnum = (c: number) => (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
const isNotSpace = (c: number) => c !== 32 && c !== 10 && c !== 9 && c !== 13;

/**
 * Streams: the score is the text's, so every cue found so far stays open (a later cue may lift
 * the text over the threshold and make it a finding): the earliest cue holds from its start.
 * A cue still being written holds too: from a trigger word in the last MAX_CUE_SPAN characters
 * when the text from there is a beginning of one of that word's cues (a role line, template
 * token or markdown header for the cues without trigger words), from letters being spaced
 * out, a trailing base64 or hex run, the trailing token.
 */
function pendingOf({ norm, evidence, folded }: Analysis): number {
  const text = norm.text;
  let open = text.length;
  for (const h of evidence.hits) open = Math.min(open, h.start);
  // The top-level folded view collect() searched: foldForCues(text).
  const f = folded.text;
  const at = (i: number) => (i >= f.length ? text.length : folded.from[i]!);
  const tail = Math.max(0, f.length - MAX_CUE_SPAN);
  // A cue still being written: the text from one of its trigger words (or, for a cue without
  // one, from anywhere in the tail) to the end is a beginning of a match of it. Each cue has a
  // pattern for its beginnings (built like a deny-list pattern's, pattern-facts.ts).
  const found = triggerBeginning(f, tail, open);
  if (found !== -1) open = Math.min(open, at(found));
  const tailText = f.slice(tail);
  for (const cue of CUES_WITHOUT_TRIGGERS) {
    const begins = BEGINNING.get(cue);
    if (begins === undefined) {
      open = Math.min(open, at(tail));
      continue;
    }
    const sticky = LINE_START_BEGINNING.get(cue);
    if (sticky !== undefined) {
      // A match begins at the text's start or at a line feed, and so does a beginning of one:
      // tried there (and where the tail begins, which may be a line's middle), not searched for
      // at every place, as the beginnings pattern (anchors left out) would allow.
      for (let i = tail; i !== -1 && i < f.length; i = f.indexOf('\n', i + 1)) {
        sticky.lastIndex = i;
        if (sticky.test(f)) {
          open = Math.min(open, at(i));
          break;
        }
      }
      continue;
    }
    begins.lastIndex = 0;
    const m = begins.exec(tailText);
    if (m !== null && m.index < tailText.length) open = Math.min(open, at(tail + m.index));
  }
  // A trigger of several words whose first words end the text (`you ` of `you are`).
  const prefix = triggerPrefixAtEnd(f);
  if (prefix !== -1) open = Math.min(open, at(prefix));
  // Cues spelled in ROT13 are read once the text looks like ROT13 (two of its common words,
  // collect()); a beginning of one is held as a plain one is, or its first words went out
  // before the text was recognised and the window skipped the cue as text already judged
  // (`Vtaber nyy cerivbhf vafgehpgvbaf.` streamed through). Read in ROT13 (which keeps
  // positions) from the first word of the tail that begins as a trigger word does in ROT13
  // (ROT13_HEADS), and not at all without one.
  ROT13_HEADS.lastIndex = 0;
  const head = ROT13_HEADS.exec(tailText);
  if (head !== null) {
    const from = tail + head.index;
    const rotFound = triggerBeginning(rot13(f.slice(from)), 0, Number.POSITIVE_INFINITY);
    if (rotFound !== -1) open = Math.min(open, at(from + rotFound));
  }
  if (!isLowerAlnum(f.charCodeAt(f.length - 1))) {
    const end = Math.max(0, f.length - LONGEST_TRIGGER);
    const rotPrefix = triggerPrefixAtEnd(rot13(f.slice(end)));
    if (rotPrefix !== -1) open = Math.min(open, at(end + rotPrefix));
  }
  open = Math.min(open, spacedRunStart(text, MAX_CUE_SPAN));
  open = Math.min(
    open,
    trailingRunStart(text, isEncodedChar, 64 * 1024),
    trailingRunStart(text, isHexishChar, 64 * 1024),
    trailingRunStart(text, isNotSpace, 64),
  );
  return originalOffset(norm, open);
}

/** The first three units (or all, when shorter) of every trigger word that begins with a letter
 *  or digit, in ROT13, at a word start: a text where none occurs holds no beginning of a cue
 *  spelled in ROT13 (such a beginning starts with a trigger word, in ROT13, at a word start).
 *  Trigger words beginning otherwise (`<`, CJK) read the same in ROT13. */
const ROT13_HEADS = new RegExp(
  `\\b(?:${[
    ...new Set(
      TRIGGER_WORDS.filter((t) => /^[a-z0-9]/.test(t)).map((t) =>
        rot13(t.slice(0, 3)).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      ),
    ),
  ].join('|')})`,
  'g',
);

/** The first place in `s`, from `from` and before `before`, where a trigger word starts a
 *  beginning of one of its cues that reaches the end of `s` (BEGINNING), or -1. */
function triggerBeginning(s: string, from: number, before: number): number {
  const places = triggerStartsFrom(s, from);
  for (let k = 0; k < places.length && places[k]! < before; k++) {
    const i = places[k]!;
    for (const cue of triggerNodeAt(s, i)?.cues ?? []) {
      const begins = BEGINNING.get(cue);
      if (begins === undefined) return i;
      begins.lastIndex = i;
      if (begins.test(s)) return i;
    }
  }
  return -1;
}

/** Where the first words of a trigger of several words end `s` (`you ` of `you are`), or -1.
 *  Each such beginning ends in a separator, so a text ending in a letter or digit has none. */
function triggerPrefixAtEnd(s: string): number {
  if (s.length === 0 || isLowerAlnum(s.charCodeAt(s.length - 1))) return -1;
  for (let w = Math.max(0, s.length - LONGEST_TRIGGER); w < s.length; w++) {
    if (w > 0 && isLowerAlnum(s.charCodeAt(w - 1))) continue;
    if (TRIGGER_PREFIXES.has(s.slice(w))) return w;
  }
  return -1;
}

/** Where the open text of a stream that has reached `original` begins (the detector's
 *  pendingFrom), computed afresh: the reference a test compares the detector with. */
export function injectionPendingFrom(original: string): number {
  return pendingOf(analyse(original));
}

/** The text's score and the original spans of the cues behind it. Never throws. */
export function scoreInjection(original: string): { score: number; spans: Array<{ start: number; end: number }> } {
  return scoreOf(analyse(original));
}

function scoreOf({ original, norm, evidence: found }: Analysis): {
  score: number;
  spans: Array<{ start: number; end: number }>;
} {
  // The analysis may be shared (see `last`): the obfuscation found here is this call's own.
  const evidence = { ...found };
  if (evidence.hits.length === 0) return { score: 0, spans: [] };
  const spans = mergedSpans(norm, evidence.hits);
  if (norm.text !== original && spans.some((s) => hiddenInsideWords(original.slice(s.start, s.end))))
    evidence.obfuscated = true;
  const seen = new Set<string>();
  let miss = 1;
  for (const h of evidence.hits) {
    if (seen.has(h.cue.id)) continue;
    seen.add(h.cue.id);
    miss *= 1 - h.cue.weight;
  }
  if (evidence.obfuscated) miss *= 1 - OBFUSCATION_WEIGHT;
  return { score: round(1 - miss), spans };
}

/**
 * Finds the cues in `text`; `at` places them: undefined for the top-level normalized text,
 * or the span of the encoded run they were decoded from.
 */
function collect(
  text: string,
  evidence: Evidence,
  depth: number,
  at: { start: number; end: number } | undefined,
): FoldedText {
  const folded = foldForCues(text);
  const place = (start: number, end: number) => at ?? { start: folded.from[start]!, end: folded.from[end - 1]! + 1 };
  const before = evidence.hits.length;
  matchCues(folded.text, (cue, s, e) => {
    evidence.hits.push({ cue, ...place(s, e) });
    // Obfuscation counts when it hid this cue, not when it is elsewhere in the text.
    if (folded.changed !== undefined && !evidence.obfuscated) {
      for (let k = s; k < e; k++)
        if (folded.changed[folded.from[k]!] === 1) {
          evidence.obfuscated = true;
          break;
        }
    }
  });
  if (evidence.hits.length > before && at !== undefined) evidence.obfuscated = true;
  // mayBeRot13 answers for the text matchCues has just read: folded.text.
  if (mayBeRot13() && looksRot13(folded.text)) {
    const n = evidence.hits.length;
    matchCues(rot13(folded.text), (cue, s, e) => evidence.hits.push({ cue, ...place(s, e) }));
    if (evidence.hits.length > n) evidence.obfuscated = true;
  }
  if (depth >= MAX_DECODE_DEPTH) return folded;
  for (const c of encodedCandidates(text)) {
    if (c.decoded.length > evidence.decodeBudget) break;
    evidence.decodeBudget -= c.decoded.length;
    const span = at ?? { start: c.start, end: c.end };
    const n = evidence.hits.length;
    collect(normalizeForScan(c.decoded).text, evidence, depth + 1, span);
    if (evidence.hits.length > n) evidence.obfuscated = true;
  }
  return folded;
}

const LONGEST_TRIGGER = TRIGGER_WORDS.reduce((n, t) => Math.max(n, t.length), 0);
/** Per cue, a pattern for the beginnings of its matches that reach the end of the text:
 *  sticky for cues tried at their trigger words, searched for the others. Undefined when it
 *  could not be built (the cue then holds from its trigger word, or the whole tail). */
const BEGINNING = new Map<Cue, RegExp>();
for (const cue of CUES) {
  try {
    const pre = patternFacts(cue.re.source).prefixPattern;
    BEGINNING.set(cue, new RegExp(`(?:${pre})$`, cue.triggers === undefined ? 'g' : 'y'));
  } catch {
    // No beginnings pattern: held conservatively (see BEGINNING).
  }
}
/** Beginnings of triggers that end after a separator (a beginning inside a word is the trailing token). */
/** For the cues whose matches begin only at the text's start or a line feed (LINE_START_CUES),
 *  their beginnings pattern, sticky. */
const LINE_START_BEGINNING = new Map<Cue, RegExp>();
for (const cue of LINE_START_CUES) {
  const begins = BEGINNING.get(cue);
  if (begins !== undefined) LINE_START_BEGINNING.set(cue, new RegExp(begins.source, 'y'));
}
/** Beginnings of triggers of several words, each up to and including a separator after a word
 *  (so never ending in a letter or digit: pendingOf relies on it). */
const TRIGGER_PREFIXES = new Set(
  TRIGGER_WORDS.flatMap((t) => [...t].flatMap((_, i) => (i > 0 && /[^a-z0-9]/.test(t[i - 1]!) ? [t.slice(0, i)] : []))),
);
/** Invisible or tag characters, or letters of two scripts, inside a word of (a cue's span in) the original. */
function hiddenInsideWords(original: string): boolean {
  return (
    /[\p{L}\p{N}][\u200b-\u200f\u2060-\u2064\ufeff\u00ad]+[\p{L}\p{N}]/u.test(original) ||
    /[\u{e0020}-\u{e007e}]{4,}/u.test(original) ||
    /(?:[a-zA-Z][\u0400-\u04ff\u0370-\u03ff\u0131\u0261]|[\u0400-\u04ff\u0370-\u03ff\u0131\u0261][a-zA-Z])/u.test(
      original,
    )
  );
}

function mergedSpans(norm: NormalizedText, hits: readonly CueHit[]): Array<{ start: number; end: number }> {
  const sorted = [...hits].sort((a, b) => a.start - b.start);
  const merged: Array<{ start: number; end: number }> = [];
  for (const h of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && h.start <= last.end) last.end = Math.max(last.end, h.end);
    else merged.push({ start: h.start, end: h.end });
  }
  return merged.map((s) => toOriginalSpan(norm, s.start, s.end));
}

const round = (x: number) => Math.round(x * 1000) / 1000;
