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
import type { GuardFinding, TextDetector } from '../detector.ts';
import { type NormalizedText, normalizeForScan, toOriginalSpan } from '../normalize.ts';
import type { Cue } from './cues.ts';
import { encodedCandidates, looksRot13 } from './decode.ts';
import { type FoldedText, foldForCues, rot13 } from './fold.ts';
import { matchCues, mayBeRot13 } from './match.ts';
import { pendingOf } from './pending.ts';

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
      return pendingWithMarkup(a);
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

/** Where the open text of a stream that has reached `original` begins (the detector's
 *  pendingFrom), computed afresh: the reference a test compares the detector with. */
export function injectionPendingFrom(original: string): number {
  return pendingWithMarkup(analyse(original));
}

/**
 * Markup cut short at the end of the text: a character reference or escape (`&#10`, `&nbs`,
 * `%2`, `\u00`) or an HTML tag (`<b`, `</stro`, `<span class="x`). Normalization
 * reads references and escapes as the characters they stand for (normalize.ts) and the folded
 * view reads escaped spaces as spaces and formatting tags as nothing (between-words.ts, readMarkup), so
 * when the rest of it comes, the text before it may read as the beginning of a cue where it did
 * not. Case-insensitive.
 */
const PARTIAL_ESCAPE =
  /(?:&(?:#(?:x[0-9a-f]{0,6}|[0-9]{0,7})|[a-z]{0,7})|%(?:4|2|0|c|c2|c2%|c2%a)?|\\(?:u[0-9a-f]{0,3}|x[0-9a-f]?)?)$/i;
const PARTIAL_TAG = /^<\/?(?:[a-z][a-z0-9]{0,11}(?:\s[^<>]{0,200})?\/?)?$/i;

/** The text before the markup cut short that a stream's text ended with last, and its
 *  pendingOf: a tag or reference longer than a stream's piece ends several texts in a row, all
 *  with the same text before it. */
let lastBefore: { readonly text: string; readonly open: number } | undefined;

/**
 * pendingOf for the analysed text; when it ends in markup cut short, also for the text before
 * that markup, and the earlier of the two. Whatever the markup turns out to be (a separator, a
 * letter of the word before, a tag read as nothing), the text before it is a beginning of
 * every cue that text plus it begins (beginnings are closed under cutting the end off), so
 * that one reading holds all of theirs. A stream of HTML or JSON ends a piece in markup often
 * (bench: 2 KB of HTML in 4-unit pieces, 3.4 times the CPU of the build without the readings
 * with a space and with nothing read apart, against 2.4 with this one and the memo).
 */
function pendingWithMarkup(a: Analysis): number {
  const open = pendingOf(a.norm, a.evidence.hits, a.folded);
  const text = a.original;
  const tail = text.length > 12 ? text.slice(-12) : text;
  const partial = PARTIAL_ESCAPE.exec(tail);
  // A tag cut short starts at most 220 units back (PARTIAL_TAG): the search for its `<` reads
  // only that far, not the whole buffer at every stream step.
  const from = Math.max(0, text.length - 220);
  const cut = text.slice(from).lastIndexOf('<');
  let before: string | undefined;
  if (partial !== null) before = text.slice(0, text.length - tail.length + partial.index);
  else if (cut !== -1 && PARTIAL_TAG.test(text.slice(from + cut))) before = text.slice(0, from + cut);
  if (before === undefined) return open;
  if (lastBefore === undefined || lastBefore.text !== before) {
    const b = analyse(before);
    lastBefore = { text: before, open: pendingOf(b.norm, b.evidence.hits, b.folded) };
  }
  return Math.min(open, lastBefore.open);
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
