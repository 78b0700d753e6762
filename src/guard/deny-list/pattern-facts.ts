/**
 * Two facts about an RE2 pattern (already accepted by re2js, so its syntax is valid): the
 * longest text it can match, which a stream window must hold back, and literal strings one of
 * which every match contains. The literals let the deny list skip the regex engine for a text
 * that contains none of them: one literal pass replaces a regex run per pattern on most texts.
 */

import { codePointAt } from '../../core/code-point.ts';

export interface PatternFacts {
  /** In UTF-16 units; Infinity when the pattern has an unbounded repetition. */
  readonly maxLength: number;
  /** Every match contains one of these (lower case); undefined when no useful literal exists. */
  readonly requiredLiterals: readonly string[] | undefined;
  /** Finer: the pattern's top-level alternatives (one when it has none), each as the literal
   *  sets (lower case) of which a match of it contains one literal each. A text that, for
   *  every alternative, holds no literal of one of its sets has no match. An alternative with
   *  no set can match any text. */
  readonly literalSets: ReadonlyArray<ReadonlyArray<readonly string[]>>;
  /** An RE2 pattern matching every beginning of a match (the empty one and whole matches
   *  included; anchors and word boundaries left out, so it may match a little more): a stream
   *  holds a text's end only when the end could still grow into a match. */
  readonly prefixPattern: string;
  /** A JavaScript pattern for one character that can occur in a match (a superset), when
   *  every character of the pattern is of a simple kind; undefined otherwise. Streams look for
   *  a beginning only in the run of such characters the text ends with. */
  readonly matchChar: RegExp | undefined;
}

/** Character atoms of the pattern being read (see matchChar). */
let atoms: string[] | undefined;
/** Atoms whose meaning is the same, or wider, in JavaScript: plain characters, escaped
 *  punctuation, \d \w \s, and classes of those. Negated escapes (\S is narrower in JavaScript),
 *  `.`, Unicode classes and hex escapes are not. */
const SIMPLE_ATOM = /^(?:\\[dws]|\\[^a-zA-Z0-9]|[^\\[\].]|\[\^?(?:[^\]\\[]|\\[dws]|\\[^a-zA-Z0-9])+\])$/;

interface Node {
  readonly max: number;
  readonly min: number;
  /** The node's own source (anchors left out), and a pattern for its beginnings. */
  readonly src: string;
  readonly pre: string;
  /** A single literal character (merged into runs by concatenation). */
  readonly char?: string;
  readonly literals: readonly string[] | undefined;
  /** Literal sets of which every match contains one literal each (see literalSets). */
  readonly sets: ReadonlyArray<readonly string[]>;
  /** An alternation's branches (kept through a group around it and a sequence of one part). */
  readonly alternatives?: readonly Node[];
}

const MIN_USEFUL_LITERAL = 3;
const oneChar = (src: string): Node => {
  atoms?.push(src);
  return { max: 2, min: 1, literals: undefined, sets: [], src, pre: `(?:${src})?` };
};
/** Anchors and word boundaries: no text; left out of the beginnings pattern altogether (it
 *  then matches more, never less). Flag groups are kept. */
const empty = (src: string, keep = false): Node => ({
  max: 0,
  min: 0,
  literals: undefined,
  sets: [],
  src: keep ? src : '',
  pre: keep ? src : '',
});
const charNode = (ch: string, src: string): Node => {
  atoms?.push(src);
  return {
    max: ch.length,
    min: ch.length,
    char: ch.toLowerCase(),
    literals: undefined,
    sets: [],
    src,
    pre: `(?:${src})?`,
  };
};
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07' };

export function patternFacts(pattern: string): PatternFacts {
  let i = 0;
  const peek = () => pattern[i];

  function alternation(): Node {
    const branches = [concatenation()];
    while (peek() === '|') {
      i++;
      branches.push(concatenation());
    }
    if (branches.length === 1) return branches[0]!;
    const literals = branches.every((b) => b.literals !== undefined) ? branches.flatMap((b) => b.literals!) : undefined;
    return {
      max: Math.max(...branches.map((b) => b.max)),
      min: Math.min(...branches.map((b) => b.min)),
      literals,
      // Inside a sequence, what an alternation requires is one set: every branch's own best.
      sets: literals === undefined ? [] : [literals],
      alternatives: branches,
      src: `(?:${branches.map((b) => b.src).join('|')})`,
      pre: `(?:${branches.map((b) => b.pre).join('|')})`,
    };
  }

  function concatenation(): Node {
    const parts: Node[] = [];
    while (i < pattern.length && peek() !== '|' && peek() !== ')') parts.push(quantified(atom()));
    let max = 0;
    let min = 0;
    const sets: Array<readonly string[]> = [];
    let run = '';
    const endRun = () => {
      if (run.length >= MIN_USEFUL_LITERAL) sets.push([run]);
      run = '';
    };
    for (const p of parts) {
      max += p.max;
      min += p.min;
      if (p.char !== undefined) {
        run += p.char;
        continue;
      }
      if (p.max === 0) continue; // anchors and flags do not break a literal run
      endRun();
      for (const set of p.sets) if (set.every((l) => l.length >= MIN_USEFUL_LITERAL)) sets.push(set);
    }
    endRun();
    // The required literals: the first set whose shortest literal is longest (a part's own
    // choice is among its sets, so this is the best of the parts' choices too).
    let best: readonly string[] | undefined;
    let bestShortest = 0;
    for (const set of sets) {
      const shortest = Math.min(...set.map((l) => l.length));
      if (shortest > bestShortest) [best, bestShortest] = [set, shortest];
    }
    // Beginnings of a sequence: a beginning of its first part, or the first part whole and a
    // beginning of the rest.
    let pre = '';
    for (let k = parts.length - 1; k >= 0; k--) {
      const part = parts[k]!;
      pre = k === parts.length - 1 ? part.pre : `(?:${part.pre}|${part.src}${pre})`;
    }
    const alternatives = parts.length === 1 ? parts[0]!.alternatives : undefined;
    return { max, min, literals: best, sets, src: parts.map((p) => p.src).join(''), pre, alternatives };
  }

  function quantified(node: Node): Node {
    const from = i;
    const c = peek();
    let lo: number;
    let hi: number;
    if (c === '*') {
      lo = 0;
      hi = Infinity;
      i++;
    } else if (c === '+') {
      lo = 1;
      hi = Infinity;
      i++;
    } else if (c === '?') {
      lo = 0;
      hi = 1;
      i++;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (m === null) return node;
      lo = Number(m[1]);
      hi = m[2] === undefined ? lo : m[3] === '' ? Infinity : Number(m[3]);
      i += m[0].length;
    } else return node;
    if (peek() === '?') i++; // lazy: same lengths
    const literals = lo >= 1 ? (node.char !== undefined ? [node.char] : node.literals) : undefined;
    const sets = lo >= 1 ? node.sets : [];
    // Beginnings of up to `hi` repetitions: fewer than `hi` whole ones, then a beginning of one.
    const whole = hi === Infinity ? `(?:${node.src})*` : hi <= 1 ? '' : `(?:${node.src}){0,${hi - 1}}`;
    return quantified({
      max: node.max === 0 ? 0 : node.max * hi,
      min: node.min * lo,
      literals,
      sets,
      src: `(?:${node.src})${pattern.slice(from, i)}`,
      pre: hi === 0 ? '' : `${whole}${node.pre}`,
    });
  }

  function atom(): Node {
    const c = pattern[i]!;
    const from = i;
    if (c === '(' && /^\(\?<?[=!]/.test(pattern.slice(i, i + 4))) {
      // A look-around (JavaScript only: the injection cues; RE2 has none): no text of its
      // own, so no length or literal, and left out of the pattern's own source (which then
      // matches more, never less). A look-ahead is not decided while the text after the match
      // is a beginning of what it looks for (`ignore the previous m…`, with `(?! message)`
      // after `previous`): its beginnings are beginnings of the match too. One of a single
      // character (a word's end, `(?![a-z0-9])`) is decided by the next character, which
      // either continues the match or ends it: left out.
      const behind = pattern[i + 2] === '<';
      i += behind ? 4 : 3;
      const inner = alternation();
      i++; // ')'
      return behind || inner.min < 2 ? empty('') : { ...empty(''), pre: `(?:${inner.pre})` };
    }
    if (c === '(') {
      i++;
      let open = '(?:';
      if (peek() === '?') {
        const flags = /^\?(?:P?<[^>]*>|[a-zA-Z-]*(?::|\)))/.exec(pattern.slice(i));
        if (flags !== null) {
          i += flags[0].length;
          // (?i) sets flags for what follows; (?i:…) for the group.
          if (flags[0].endsWith(')')) return empty(pattern.slice(from, i), true);
          if (!flags[0].includes('<')) open = `(${flags[0]}`;
        }
      }
      const inner = alternation();
      i++; // ')'
      return { ...inner, src: `${open}${inner.src})`, pre: `${open}${inner.pre})` };
    }
    if (c === '[') {
      skipClass();
      return oneChar(pattern.slice(from, i));
    }
    if (c === '.') {
      i++;
      return oneChar('.');
    }
    if (c === '^' || c === '$') {
      i++;
      return empty(c);
    }
    if (c === '\\') return escapeSequence();
    const cp = codePointAt(pattern, i);
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    return charNode(ch, ch);
  }

  function escapeSequence(): Node {
    const from = i;
    const e = pattern[i + 1] ?? '';
    i += 2;
    if ('bBAz'.includes(e)) return empty(pattern.slice(from, i));
    if ('dDwWsS'.includes(e)) return oneChar(pattern.slice(from, i));
    if (e === 'p' || e === 'P') {
      if (peek() === '{') i = pattern.indexOf('}', i) + 1;
      else i++;
      return oneChar(pattern.slice(from, i));
    }
    if (e === 'Q') {
      const close = pattern.indexOf('\\E', i);
      const text = pattern.slice(i, close === -1 ? pattern.length : close);
      i = close === -1 ? pattern.length : close + 2;
      // Beginnings of a quoted literal: each of its prefixes, as an escaped alternation.
      const prefixes = [...text].map((_, k) => quoteMeta([...text].slice(0, k + 1).join('')));
      for (const ch of text) atoms?.push(quoteMeta(ch));
      return {
        max: text.length,
        min: text.length,
        literals: text.length >= MIN_USEFUL_LITERAL ? [text.toLowerCase()] : undefined,
        sets: text.length >= MIN_USEFUL_LITERAL ? [[text.toLowerCase()]] : [],
        src: quoteMeta(text),
        pre: `(?:${prefixes.join('|')})?`,
      };
    }
    if (e === 'x') {
      const m = /^(?:\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{2}))/.exec(pattern.slice(i));
      i += m?.[0].length ?? 0;
      const ch = String.fromCodePoint(parseInt(m?.[1] ?? m?.[2] ?? '0', 16));
      return charNode(ch, pattern.slice(from, i));
    }
    if (/[0-7]/.test(e)) {
      while (/[0-7]/.test(peek() ?? '')) i++;
      return oneChar(pattern.slice(from, i));
    }
    const ch = SIMPLE_ESCAPES[e] ?? e;
    return { ...charNode(ch, pattern.slice(from, i)), max: 1, min: 1 };
  }

  function skipClass(): void {
    i++;
    if (peek() === '^') i++;
    if (peek() === ']') i++;
    while (i < pattern.length && peek() !== ']') {
      if (peek() === '\\') i += 2;
      else if (pattern.startsWith('[:', i)) i = pattern.indexOf(':]', i) + 2;
      else i++;
    }
    i++;
  }

  atoms = [];
  let root: Node;
  let seen: string[];
  try {
    root = alternation();
  } finally {
    seen = atoms;
    atoms = undefined;
  }
  let matchChar: RegExp | undefined;
  if (seen.length > 0 && seen.every((a) => SIMPLE_ATOM.test(a))) {
    try {
      matchChar = new RegExp(`^(?:${seen.join('|')})$`, 'i');
    } catch {
      matchChar = undefined;
    }
  }
  return {
    maxLength: root.max,
    requiredLiterals: root.literals,
    literalSets: (root.alternatives ?? [root]).map((b) => b.sets),
    prefixPattern: root.pre,
    matchChar,
  };
}

const quoteMeta = (text: string) => text.replace(/[\\^$.|?*+()[\]{}-]/g, '\\$&');
