/**
 * The injection detector on streams (its pendingFrom): where the text that may still become a
 * finding begins, so that a stream window holds it back. The score is the whole text's, so a cue
 * found so far holds from its start; a cue still being written holds from where it could have
 * begun: a trigger word whose cues' beginnings reach the end, the same in ROT13, letters being
 * spaced out, an encoded run, the trailing token. index.ts analyses the text; this reads the
 * analysis.
 */
import { patternFacts } from '../deny-list/pattern-facts.ts';
import { type NormalizedText, originalOffset, trailingRunStart } from '../normalize.ts';
import { CUES, type Cue } from './cues.ts';
import { type FoldedText, isFoldedLetter, isSpacer, rot13 } from './fold.ts';
import { CUES_WITHOUT_TRIGGERS, LINE_START_CUES, TRIGGER_WORDS, triggerNodeAt, triggerStartsFrom } from './match.ts';

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
    if (k === stop || !isFoldedLetter(text.charCodeAt(k - 1))) break;
    if (k >= 2 && isFoldedLetter(text.charCodeAt(k - 2))) break;
    start = k - 1;
    i = k - 1;
  }
  // Held only once a spacer follows a letter (a text ending in a letter is its trailing token).
  return (start < n && isSpacerOrSpace(text.charCodeAt(n - 1))) || start < n - 1 ? start : n;
}
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
export function pendingOf(
  norm: NormalizedText,
  hits: readonly { readonly start: number }[],
  folded: FoldedText,
): number {
  const text = norm.text;
  let open = text.length;
  for (const h of hits) open = Math.min(open, h.start);
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
