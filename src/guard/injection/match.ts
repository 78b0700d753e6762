/**
 * Where the injection cues are tried, and which: the cues with trigger words at the places one
 * of their trigger words starts (found in one pass over the folded text, then a walk of a trie
 * of the words), and only when the text may hold the other words each cue needs (a trigram set
 * of the text, checked against the literal sets of its pattern); the cues without trigger
 * words over the whole text, when one of their needles is in it. index.ts scores what is found.
 */
import { asciiBytes } from '../ascii.ts';
import { patternFacts } from '../deny-list/pattern-facts.ts';
import { CUES, type Cue } from './cues.ts';
import { ROT13_WORD_LIST } from './decode.ts';
import { addHash, addTrigram, hasHash, hash3, mayContain, newTrigramSet, trigramsOf } from './trigrams.ts';

/** The ROT13 words (decode.ts) as trigrams: a text that cannot hold two of them is not
 *  searched for them (about 4 % of the detector's time on prose). mayBeRot13 answers for the
 *  text matchCues read last. */
const ROT13_TRIGRAMS = ROT13_WORD_LIST.map(trigramsOf);
export function mayBeRot13(): boolean {
  let found = 0;
  for (const t of ROT13_TRIGRAMS) if (mayContain(TEXT_TRIGRAMS, t) && ++found === 2) return true;
  return false;
}

/** Cues are tried only where one of their leading literals occurs: one pass finds those
 *  places for every cue, instead of every cue's pattern walking the whole text. */
const TRIGGERED = CUES.filter((c) => c.triggers !== undefined);
const ALWAYS = CUES.filter((c) => c.triggers === undefined);
/** The cues without trigger words, searched over the whole text (when their needles are there). */
export const CUES_WITHOUT_TRIGGERS: readonly Cue[] = ALWAYS;
const triggers = [...new Set(TRIGGERED.flatMap((c) => c.triggers!))].sort((a, b) => b.length - a.length);
/** For each trigger, the cues to try where it matches: those with a trigger that is a prefix
 *  of it (a shorter trigger matches wherever a longer one it begins does). */
const CUES_AT = new Map<string, readonly Cue[]>(
  triggers.map((t) => [t, TRIGGERED.filter((c) => c.triggers!.some((u) => t.startsWith(u)))]),
);
/** What an ASCII unit is to the trigger search: a unit of `\w` (a word boundary is between
 *  such a unit and any other), and whether a trigger can start with it. A latin trigger (one
 *  beginning with a letter or digit) starts only at the start of a word, as every such cue
 *  begins with a word boundary; one beginning with any other unit (CJK, `<`) anywhere. */
const WORD_UNIT = 1;
const STARTS_LATIN = 2;
const STARTS_ANYWHERE = 4;
const UNIT_KIND = new Uint8Array(128);
for (let c = 0; c < 128; c++) if (/\w/.test(String.fromCharCode(c))) UNIT_KIND[c]! |= WORD_UNIT;
const WIDE_FIRST = new Set<number>();
for (const t of triggers) {
  const c = t.charCodeAt(0);
  if (c >= 128) WIDE_FIRST.add(c);
  else UNIT_KIND[c]! |= /^[a-z0-9]/.test(t) ? STARTS_LATIN : STARTS_ANYWHERE;
}

/**
 * The heads of the latin triggers: the hashes of the first three units of each one of three
 * units or more (in a trigram set), and each shorter one's first two units (SHORT_NEXT, below).
 * A word start is a place only when the three units from it begin a trigger: on prose that
 * keeps about 150 of 355 word starts of a 2 KB text, and each one dropped is a walk of the
 * trigger trie saved.
 */
const LATIN_HEADS = newTrigramSet();
/** The latin triggers of one or two units (`if`, `ai`, `do`…) by their first unit: that unit's
 *  row (from 1) is UNIT_KIND[first] >>> SHORT_ROW_SHIFT, and SHORT_NEXT[row * 128 + second] is 1
 *  when the two units head one (a second unit beyond ASCII counted as 127; a one-unit trigger
 *  marks its whole row). Every other unit has row 0, all zeros. This replaced a table of
 *  128 × 128 entries read at every byte of a text: on prose those reads touched about 80 of its
 *  256 cache lines, each a likely miss in a gateway, where the table is cold between requests;
 *  row 0 is two lines. */
const SHORT_ROW_SHIFT = 3;
const shortFirsts = [
  ...new Set(
    triggers.filter((t) => t.length < 3 && t.charCodeAt(0) < 128 && /^[a-z0-9]/.test(t)).map((t) => t.charCodeAt(0)),
  ),
];
if (shortFirsts.length >= 1 << (8 - SHORT_ROW_SHIFT)) throw new Error('injection: too many short trigger heads');
const SHORT_NEXT = new Uint8Array((shortFirsts.length + 1) * 128);
shortFirsts.forEach((c, k) => {
  UNIT_KIND[c]! |= (k + 1) << SHORT_ROW_SHIFT;
});
for (const t of triggers) {
  const first = t.charCodeAt(0);
  if (first >= 128 || !/^[a-z0-9]/.test(t)) continue;
  if (t.length >= 3) {
    addTrigram(LATIN_HEADS, first, t.charCodeAt(1), t.charCodeAt(2));
    continue;
  }
  const row = (UNIT_KIND[first]! >>> SHORT_ROW_SHIFT) * 128;
  if (t.length === 2) SHORT_NEXT[row + Math.min(127, t.charCodeAt(1))] = 1;
  else SHORT_NEXT.fill(1, row, row + 128);
}
/** 1 when a unit of kind `kind` (UNIT_KIND) followed by the ASCII unit `second` heads a
 *  short latin trigger, else 0. */
const headsShort = (kind: number, second: number) => SHORT_NEXT[(kind >>> SHORT_ROW_SHIFT) * 128 + second]!;
/** 1 when units a (ASCII), b (and the trigram hash h of a, b and the next) head a latin trigger, else 0. */
const headsTrigger = (a: number, b: number, h: number) =>
  hasHash(LATIN_HEADS, h) | headsShort(UNIT_KIND[a]!, Math.min(127, b));

/** Where a trigger may start, as found by the last readUnits(): reused from text to text
 *  while it stays under PLACES_KEPT entries. */
let PLACES = new Int32Array(4096);
let places = PLACES;
const PLACES_KEPT = 1 << 16;

/**
 * One pass over `text` from `from`: into `places`, the positions where a trigger may start (the
 * start of a word whose first units head a latin trigger, LATIN_HEADS, or a unit that begins a
 * trigger of the other kind; triggerNodeAt says whether one does), and with `trigrams` the
 * text's trigrams into TEXT_TRIGRAMS (cleared first). Returns how many positions. One loop over
 * the units replaced a search with a lookahead pattern of every trigger (at each word boundary
 * the engine ran the trigger trie: about 55 KB of machine code that a request's other work
 * evicts from the caches) and a second pass for the trigrams.
 */
function readUnits(text: string, from: number, trigrams: boolean): number {
  const n = text.length;
  if (n - from > PLACES.length) {
    places = new Int32Array(n - from);
    if (places.length <= PLACES_KEPT) PLACES = places;
  } else places = PLACES;
  if (trigrams) TEXT_TRIGRAMS.fill(0);
  const before = from > 0 && from <= n ? text.charCodeAt(from - 1) : 128;
  let prevWord = before < 128 && (UNIT_KIND[before]! & WORD_UNIT) !== 0;
  if (n - from >= BYTES_FROM) {
    const ascii = asciiBytes(from === 0 ? text : text.slice(from));
    if (ascii !== undefined) return readBytes(ascii, n - from, from, trigrams, prevWord);
  }
  let count = 0;
  let a = from >= 2 ? text.charCodeAt(from - 2) : 0;
  let b = before === 128 ? 0 : before;
  // A latin word start waiting for its next two units (LATIN_HEADS), or -1. Places stay in
  // order: another place found meanwhile keeps the waiting one unchecked first.
  let pending = -1;
  for (let i = from; i < n; i++) {
    const c = text.charCodeAt(i);
    if (i >= 2) {
      const h = hash3(a, b, c);
      if (trigrams) addHash(TEXT_TRIGRAMS, h);
      if (pending === i - 2) {
        if (headsTrigger(a, b, h) === 1) places[count++] = pending;
        pending = -1;
      }
    }
    a = b;
    b = c;
    if (c >= 128) {
      prevWord = false;
      if (WIDE_FIRST.has(c)) {
        if (pending >= 0) places[count++] = pending;
        pending = -1;
        places[count++] = i;
      }
      continue;
    }
    const kind = UNIT_KIND[c]!;
    if ((kind & STARTS_ANYWHERE) !== 0) {
      if (pending >= 0) places[count++] = pending;
      pending = -1;
      places[count++] = i;
    } else if ((kind & STARTS_LATIN) !== 0 && !prevWord) pending = i;
    prevWord = (kind & WORD_UNIT) !== 0;
  }
  // A word start too close to the end for its three units: kept (the walk decides).
  if (pending >= 0) places[count++] = pending;
  return count;
}

/** From this many units on, readUnits reads the text as bytes when it is all ASCII. */
const BYTES_FROM = 64;

/**
 * readUnits on an ASCII text, as bytes: the loop over units was most of the detector's own time
 * on prose (each unit a string read through its representation), about 2.5 times slower than
 * this one. Every position's trigram is the one it starts (the zeros after the text end the
 * last ones); a word start is a place when that trigram heads a trigger (headsTrigger), a unit
 * that begins a non-latin trigger always is.
 */
function readBytes(bytes: Uint8Array, m: number, offset: number, trigrams: boolean, prevWord: boolean): number {
  // Module tables in locals and the next units carried from step to step: 10.0 → 6.8 µs per
  // 2 KB warm, against the same loop reading them each step.
  const out = places;
  // Every position's trigram is put in a set, without a test per step: the text's set, or a
  // scratch one when its trigrams are not wanted. The last two positions' trigrams hold the
  // zeros after the text: no literal holds a zero, so they can only make the gate say "may".
  const textTrigrams = trigrams ? TEXT_TRIGRAMS : SCRATCH_TRIGRAMS;
  const kinds = UNIT_KIND;
  let count = 0;
  let prev = prevWord ? 1 : 0;
  let c = bytes[0]!;
  let c1 = bytes[1]!;
  for (let i = 0; i < m; i++) {
    const c2 = bytes[i + 2]!;
    const h = hash3(c, c1, c2);
    addHash(textTrigrams, h);
    const kind = kinds[c]!;
    // A place only where a word starts with a latin trigger's first unit (about one unit in
    // eight of prose, so the heads are read there only) or at a unit that starts a trigger
    // anywhere: 9.7 → 8.6 µs per 2 KB of prose, against reading the heads at every unit.
    const anywhere = (kind & STARTS_ANYWHERE) >>> 2;
    if ((((kind & STARTS_LATIN) >>> 1) & (prev ^ 1)) | anywhere) {
      out[count] = i + offset;
      count += hasHash(LATIN_HEADS, h) | headsShort(kind, c1) | anywhere;
    }
    prev = kind & WORD_UNIT;
    c = c1;
    c1 = c2;
  }
  return count;
}

/** The places from `from` where a trigger may start (see readUnits); valid until the next call. */
export function triggerStartsFrom(text: string, from: number): Int32Array {
  const count = readUnits(text, from, false);
  return places.subarray(0, count);
}

/**
 * Per triggered cue (by index in TRIGGERED), the words its matches must hold (pattern-facts.ts,
 * literalSets: per alternative of the pattern, sets of which a match holds one word each), as
 * trigrams. Most trigger words are common (`you`, `the`, `can`, `show`) and most texts hold
 * none of the words that would have to follow them in an attack (`instructions`, `prompt`,
 * `restricted`): a cue is run at its trigger words only when the text may hold them.
 */
const NEEDS = TRIGGERED.map((cue) => patternFacts(cue.re.source).literalSets);
/**
 * NEEDS as one array, read front to back: per triggered cue in TRIGGERED order, its
 * alternatives' count, then per alternative where it ends and its sets' count, then per set
 * where it ends and its literals' count, then per literal its trigram count and the trigram
 * hashes themselves (GATE_AT[id] is where cue id begins). The literals shared by several cues
 * are written once per cue. The ends let the check leave a set at its first literal the text
 * may hold and an alternative at its first set it cannot; within an alternative, the sets whose
 * shortest literal is longest (the least likely in ordinary text) come first.
 *
 * Why this layout: between two requests of a gateway the gate's tables are out of the caches.
 * The gate used to reach a literal's trigrams through two tables of ids (cue → literal id →
 * offset → hashes), so each literal cost a chain of dependent loads, each a likely cache miss:
 * about 40 µs per 2 KB text with the caches cold, against 2 µs warm. Read forward in one pass
 * (gateAll), the 13 KB stream in; the hardware prefetcher keeps ahead of it.
 */
const GATE_CODE: number[] = [];
const GATE_AT = new Int32Array(TRIGGERED.length + 1);
const shortestOf = (set: readonly string[]) => Math.min(...set.map((l) => l.length));
NEEDS.forEach((branches, id) => {
  GATE_AT[id] = GATE_CODE.length;
  GATE_CODE.push(branches.length);
  for (const sets of branches) {
    const branchAt = GATE_CODE.length;
    GATE_CODE.push(0, sets.length);
    for (const set of [...sets].sort((a, b) => shortestOf(b) - shortestOf(a))) {
      const setAt = GATE_CODE.length;
      GATE_CODE.push(0, set.length);
      for (const literal of set) {
        const hashes = trigramsOf(literal);
        GATE_CODE.push(hashes.length);
        for (const h of hashes) GATE_CODE.push(h);
      }
      GATE_CODE[setAt] = GATE_CODE.length;
    }
    GATE_CODE[branchAt] = GATE_CODE.length;
  }
});
GATE_AT[TRIGGERED.length] = GATE_CODE.length;
/** 16-bit entries (the hashes have 14 bits, counts and ends are smaller): half the lines to read cold. */
if (GATE_CODE.some((v) => v > 0xffff)) throw new Error('injection: a gate entry does not fit 16 bits');
const GATE = Uint16Array.from(GATE_CODE);

/** The text matchCues is reading: its trigrams, and per triggered cue whether it may match
 *  there (0 not decided yet, 1 may, 2 cannot; every cue is decided when the text is started
 *  if it has GATE_ALL_FROM_PLACES places or more). matchCues is never re-entered. */
const TEXT_TRIGRAMS = newTrigramSet();
/** Where readBytes puts the trigrams of a text whose set is not wanted (triggerStartsFrom). */
const SCRATCH_TRIGRAMS = newTrigramSet();
const MAY_MATCH = new Uint8Array(TRIGGERED.length);

/** Whether the cue whose gate code begins at GATE[p] may match in the text of TEXT_TRIGRAMS:
 *  some alternative whose every set has a literal all of whose trigrams are in the text. A
 *  literal shorter than three units has no trigram, and so may always be there. */
function cueMayMatch(p: number): boolean {
  for (let branches = GATE[p++]!; branches > 0; branches--) {
    const branchEnd = GATE[p]!;
    let q = p + 2;
    let all = true;
    for (let sets = GATE[p + 1]!; sets > 0 && all; sets--) {
      const setEnd = GATE[q]!;
      let r = q + 2;
      let some = false;
      for (let literals = GATE[q + 1]!; literals > 0 && !some; literals--) {
        const n = GATE[r]!;
        some = true;
        for (let k = r + 1; k <= r + n; k++) {
          if (hasHash(TEXT_TRIGRAMS, GATE[k]!) === 0) {
            some = false;
            break;
          }
        }
        r += n + 1;
      }
      all = some;
      q = setEnd;
    }
    if (all) return true;
    p = branchEnd;
  }
  return false;
}

/** Decides MAY_MATCH for every triggered cue, in one forward pass over GATE. */
function gateAll(): void {
  for (let id = 0; id < MAY_MATCH.length; id++) MAY_MATCH[id] = cueMayMatch(GATE_AT[id]!) ? 1 : 2;
}

/** Whether triggered cue `id` may match in the text being read: decided on first use when
 *  the text was started with few trigger places (a stream window's short buffer meets a few
 *  cues, and deciding all of them would cost more than the scan). */
function mayMatch(id: number): boolean {
  let known = MAY_MATCH[id]!;
  if (known === 0) {
    known = cueMayMatch(GATE_AT[id]!) ? 1 : 2;
    MAY_MATCH[id] = known;
  }
  return known === 1;
}

/** From this many trigger places on, a text's cues are all decided at once (gateAll): a
 *  2 KB prompt has about 150, and meets most cues anyway. (A stream's weak-cue answer,
 *  rescanned as it grows, pays for it: 1.06 of the lazy gate's CPU in bench/guard-stream.ts.) */
const GATE_ALL_FROM_PLACES = 32;

interface TriggerNode {
  readonly next: Map<number, TriggerNode>;
  /** Set where a trigger ends: its cues (and their indexes in TRIGGERED), and for several the
   *  joined pattern (see below). */
  cues: readonly Cue[] | undefined;
  ids: Int32Array | undefined;
  any: RegExp | undefined;
}
const TRIGGER_TRIE: TriggerNode = { next: new Map(), cues: undefined, ids: undefined, any: undefined };
for (const [trigger, cues] of CUES_AT) {
  let node = TRIGGER_TRIE;
  for (let k = 0; k < trigger.length; k++) {
    const c = trigger.charCodeAt(k);
    let child = node.next.get(c);
    if (child === undefined) {
      child = { next: new Map(), cues: undefined, ids: undefined, any: undefined };
      node.next.set(c, child);
    }
    node = child;
  }
  node.cues = cues;
  node.ids = Int32Array.from(cues, (c) => TRIGGERED.indexOf(c));
  node.any = joinedCues(cues);
}

/**
 * The trie as flat arrays, walked one text unit at a time. Of its 1,314 nodes 860 have one
 * child and 318 none; 136 branch. Node i's entry in NODE_STEP is three 16-bit values: its row
 * in BRANCH_NEXT plus one (0 when it does not branch), then for a node of one child that
 * child's unit and index. A branching node's child for an ASCII unit c is
 * BRANCH_NEXT[row * COLUMNS + COLUMN[c]], for any other unit WIDE_NEXT.get(i * 0x10000 + c)
 * (0: none, since the root is nobody's child). Nodes are numbered breadth first, so the first
 * two or three letters of every walk (where most walks on prose end) read the first few KB.
 *
 * Why: in a gateway these arrays are cold between two requests, and a walk's every step is a
 * likely cache miss. The walk first followed Map-linked nodes (a lookup per unit), then a
 * depth-first table of 32-bit entries (142 KB), then a breadth-first table of 16-bit entries
 * with a row for every node (71 KB, nearly all zeros); these two arrays hold 15 KB.
 */
const NODES: TriggerNode[] = [TRIGGER_TRIE];
const NODE_INDEX = new Map<TriggerNode, number>([[TRIGGER_TRIE, 0]]);
for (let k = 0; k < NODES.length; k++) {
  for (const child of NODES[k]!.next.values()) {
    NODE_INDEX.set(child, NODES.length);
    NODES.push(child);
  }
}
if (NODES.length > 0xffff) throw new Error('injection: too many trigger trie nodes for a 16-bit table');
/** Per node, 1 where a trigger ends (NODES[i].cues is set): read at every step of a walk. */
const HAS_CUES = Uint8Array.from(NODES, (node) => (node.cues === undefined ? 0 : 1));
const COLUMN = new Uint8Array(128);
let columnCount = 1;
for (const node of NODES) for (const c of node.next.keys()) if (c < 128 && COLUMN[c] === 0) COLUMN[c] = columnCount++;
const COLUMNS = columnCount;
const BRANCHING = NODES.filter((node) => node.next.size >= 2);
if (BRANCHING.length >= 0xffff) throw new Error('injection: too many branching trie nodes for a 16-bit row');
const NODE_STEP = new Uint16Array(NODES.length * 3);
const BRANCH_NEXT = new Uint16Array(BRANCHING.length * COLUMNS);
const WIDE_NEXT = new Map<number, number>();
for (const [i, node] of NODES.entries()) {
  if (node.next.size === 1) {
    const [c, child] = [...node.next][0]!;
    NODE_STEP[i * 3 + 1] = c;
    NODE_STEP[i * 3 + 2] = NODE_INDEX.get(child)!;
  } else if (node.next.size >= 2) {
    const row = BRANCHING.indexOf(node);
    NODE_STEP[i * 3] = row + 1;
    for (const [c, child] of node.next) {
      if (c < 128) BRANCH_NEXT[row * COLUMNS + COLUMN[c]!] = NODE_INDEX.get(child)!;
      else WIDE_NEXT.set(i * 0x10000 + c, NODE_INDEX.get(child)!);
    }
  }
}

/** The cue ids of every node in one array (node i's from NODE_IDS_AT[i] to NODE_IDS_AT[i + 1]):
 *  the check at each place whether any of the node's cues may match reads these two arrays,
 *  not the node objects (scattered over the heap, and cold between requests). */
const NODE_IDS_AT = new Int32Array(NODES.length + 1);
const NODE_IDS = new Int32Array(NODES.reduce((n, node) => n + (node.ids?.length ?? 0), 0));
for (const [i, node] of NODES.entries()) {
  const at = NODE_IDS_AT[i]!;
  if (node.ids !== undefined) NODE_IDS.set(node.ids, at);
  NODE_IDS_AT[i + 1] = at + (node.ids?.length ?? 0);
}

/** By node index, the node's joined pattern (if it has one); by cue index in TRIGGERED, its
 *  pattern. The loop over places reads these arrays rather than the node and cue objects,
 *  scattered over the heap and cold between two requests. */
const NODE_ANY: ReadonlyArray<RegExp | undefined> = NODES.map((node) => node.any);
const CUE_PATTERNS: readonly RegExp[] = TRIGGERED.map((cue) => cue.re);

/** The index in NODES of the node of the longest trigger at `at` (a place readUnits found),
 *  or 0 (the root) when no trigger starts there. */
function triggerIndexAt(text: string, at: number): number {
  let node = 0;
  let found = 0;
  for (let j = at; j < text.length; j++) {
    const c = text.charCodeAt(j);
    const step = node * 3;
    const row = NODE_STEP[step]!;
    if (row !== 0) {
      if (c < 128) {
        const column = COLUMN[c]!;
        node = column === 0 ? 0 : BRANCH_NEXT[(row - 1) * COLUMNS + column]!;
      } else node = WIDE_NEXT.get(node * 0x10000 + c) ?? 0;
    } else node = NODE_STEP[step + 1] === c ? NODE_STEP[step + 2]! : 0;
    if (node === 0) break;
    if (HAS_CUES[node] === 1) found = node;
  }
  return found;
}

/** The trie node of the longest trigger at `at` (a place readUnits found), if any. */
export function triggerNodeAt(text: string, at: number): TriggerNode | undefined {
  const found = triggerIndexAt(text, at);
  return found === 0 ? undefined : NODES[found];
}

/**
 * For a trigger shared by several cues, one sticky pattern that matches where any of them
 * does. Short triggers (`you`, `the`, `can`) occur every few words of ordinary prose, and each
 * used to run every one of its cues' patterns there (about 300 runs per 2 KB, most failing
 * after a word or two); now one run says whether any can match, and only then are they run
 * one by one (each finds its own span). Cue patterns have no capturing groups or
 * back-references (a test checks), so joining them changes no branch's meaning.
 */
function joinedCues(cues: readonly Cue[]): RegExp | undefined {
  return cues.length > 1 ? new RegExp(`(?:${cues.map((c) => c.re.source).join('|')})`, 'y') : undefined;
}

/** Starts reading `folded`: its trigger places and trigrams, and nothing the gate decided
 *  for the text before. Returns how many places. */
function startText(folded: string): number {
  const count = readUnits(folded, 0, true);
  if (count >= GATE_ALL_FROM_PLACES) gateAll();
  else MAY_MATCH.fill(0);
  return count;
}

export function matchCues(folded: string, onHit: (cue: Cue, start: number, end: number) => void): void {
  const count = startText(folded);
  for (let p = 0; p < count; p++) {
    const at = places[p]!;
    const index = triggerIndexAt(folded, at);
    if (index === 0) continue;
    const first = NODE_IDS_AT[index]!;
    const end = NODE_IDS_AT[index + 1]!;
    let possible = 0;
    for (let k = first; k < end; k++) if (mayMatch(NODE_IDS[k]!)) possible++;
    if (possible === 0) continue;
    // The joined pattern answers for all of the node's cues; for some, they are tried alone.
    const any = NODE_ANY[index];
    if (possible === end - first && any !== undefined) {
      any.lastIndex = at;
      if (!any.test(folded)) continue;
    }
    for (let k = first; k < end; k++) {
      const id = NODE_IDS[k]!;
      if (!mayMatch(id)) continue;
      // test, not exec: a sticky pattern's lastIndex is where its match ends, and test builds
      // no match array and no matched substring (most runs fail; the rest need only the end).
      const re = CUE_PATTERNS[id]!;
      re.lastIndex = at;
      if (re.test(folded) && re.lastIndex > at) onHit(TRIGGERED[id]!, at, re.lastIndex);
    }
  }
  const run = alwaysCuesToRun(folded);
  for (let k = 0; k < ALWAYS.length; k++) {
    if ((run & (1 << k)) === 0) continue;
    const cue = ALWAYS[k]!;
    const atLineStarts = LINE_START_PATTERNS[k];
    if (atLineStarts !== undefined) {
      matchAtLineStarts(cue, atLineStarts, folded, onHit);
      continue;
    }
    cue.re.lastIndex = 0;
    for (let m = cue.re.exec(folded); m !== null; m = cue.re.exec(folded)) {
      if (m[0].length > 0) onHit(cue, m.index, m.index + m[0].length);
      else cue.re.lastIndex++;
    }
  }
}

/**
 * For the cues without trigger words whose every match begins at the start of the text or at a
 * line feed (their pattern begins with `(?:^|\n)`: role lines, Markdown role headers), a sticky
 * copy of the pattern, tried at those places only. Searched for over the whole text, such a
 * pattern was tried at every position (about 4 % of the detector's time on a prose text that
 * holds one of its needles, such as `assistant`); prose has few line feeds.
 */
const LINE_START_PATTERNS: ReadonlyArray<RegExp | undefined> = ALWAYS.map((cue) =>
  cue.re.source.startsWith('(?:^|\\n)') ? new RegExp(cue.re.source, `${cue.re.flags.replace('g', '')}y`) : undefined,
);
/** Those cues (every match of each begins at the text's start or at a line feed). */
export const LINE_START_CUES: ReadonlySet<Cue> = new Set(ALWAYS.filter((_, k) => LINE_START_PATTERNS[k] !== undefined));

/** The matches of `cue` where `sticky` (its pattern, sticky) matches at the text's start or a
 *  line feed: the same matches, in the same order, as its global search over the whole text
 *  (a match starts only there, and the search goes on from the end of each). */
function matchAtLineStarts(
  cue: Cue,
  sticky: RegExp,
  folded: string,
  onHit: (cue: Cue, start: number, end: number) => void,
): void {
  let from = 0;
  for (let at = 0; at !== -1 && at < folded.length; at = folded.indexOf('\n', at + 1)) {
    if (at < from) continue;
    sticky.lastIndex = at;
    if (sticky.test(folded) && sticky.lastIndex > at) {
      onHit(cue, at, sticky.lastIndex);
      from = sticky.lastIndex;
    }
  }
}

/** For each needle of the cues without trigger words, the bits (by index in ALWAYS) of the cues it belongs to. */
const NEEDLE_CUES = new Map<string, number>();
ALWAYS.forEach((cue, k) => {
  for (const n of cue.needles ?? []) NEEDLE_CUES.set(n, (NEEDLE_CUES.get(n) ?? 0) | (1 << k));
});
const NEEDLELESS = ALWAYS.reduce((mask, cue, k) => (cue.needles === undefined ? mask | (1 << k) : mask), 0);
if (ALWAYS.length > 30) throw new Error('injection: too many cues without trigger words for a bit mask');
/** Each needle, its cues, and for a needle of three units or more its trigrams: a needle the
 *  text cannot hold (most, on ordinary text) is not looked for. The others are looked for with
 *  `includes`. This replaced one search for all the needles (about 6 % of the detector's time
 *  on prose), which had replaced an `includes` per needle. */
const NEEDLES = [...NEEDLE_CUES].map(([needle, cues]) => ({
  needle,
  cues,
  trigrams: needle.length >= 3 ? trigramsOf(needle) : undefined,
}));

/** The cues without trigger words worth running on `folded` (bits by index in ALWAYS): those
 *  with a needle in it. TEXT_TRIGRAMS must hold `folded`'s trigrams. */
function alwaysCuesToRun(folded: string): number {
  let run = NEEDLELESS;
  for (const n of NEEDLES) {
    if ((run & n.cues) === n.cues) continue;
    if (n.trigrams !== undefined && !mayContain(TEXT_TRIGRAMS, n.trigrams)) continue;
    if (folded.includes(n.needle)) run |= n.cues;
  }
  return run;
}

/** Where, in `folded`, the cues with trigger words are tried (a trigger starts there): for tests. */
export function triggerPlaces(folded: string): number[] {
  const out: number[] = [];
  const count = readUnits(folded, 0, false);
  for (let k = 0; k < count; k++) if (triggerNodeAt(folded, places[k]!) !== undefined) out.push(places[k]!);
  return out;
}

/** The ids of the cues with trigger words that the words `folded` holds leave possible (the
 *  others are not tried anywhere in it): for tests. */
export function cuesThatMayMatch(folded: string): string[] {
  startText(folded);
  return TRIGGERED.filter((_, id) => mayMatch(id)).map((c) => c.id);
}

/** Every trigger word of the cues (the literal beginnings their matches start with), longest first. */
export const TRIGGER_WORDS: readonly string[] = triggers;

/** The ids of the cues without trigger words that a text's needles (or their absence of
 *  needles) say to run on `folded`: for tests. */
export function needleCueIds(folded: string): string[] {
  startText(folded);
  const run = alwaysCuesToRun(folded);
  return ALWAYS.filter((_, k) => (run & (1 << k)) !== 0).map((c) => c.id);
}
