/**
 * Two facts about an RE2 pattern (already accepted by re2js, so its syntax is valid): the
 * longest text it can match, which a stream window must hold back, and literal strings one of
 * which every match contains. The literals let the deny list skip the regex engine for a text
 * that contains none of them: one literal pass replaces a regex run per pattern on most texts.
 */

export interface PatternFacts {
  /** In UTF-16 units; Infinity when the pattern has an unbounded repetition. */
  readonly maxLength: number;
  /** Every match contains one of these (lower case); undefined when no useful literal exists. */
  readonly requiredLiterals: readonly string[] | undefined;
}

interface Node {
  readonly max: number;
  readonly min: number;
  /** A single literal character (merged into runs by concatenation). */
  readonly char?: string;
  readonly literals: readonly string[] | undefined;
}

const MIN_USEFUL_LITERAL = 3;
const ONE_CHAR: Node = { max: 2, min: 1, literals: undefined };
const EMPTY: Node = { max: 0, min: 0, literals: undefined };
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
    return { max: Math.max(...branches.map((b) => b.max)), min: Math.min(...branches.map((b) => b.min)), literals };
  }

  function concatenation(): Node {
    const parts: Node[] = [];
    while (i < pattern.length && peek() !== '|' && peek() !== ')') parts.push(quantified(atom()));
    let max = 0;
    let min = 0;
    let best: readonly string[] | undefined;
    let run = '';
    const consider = (lits: readonly string[] | undefined) => {
      if (lits === undefined || lits.some((l) => l.length < MIN_USEFUL_LITERAL)) return;
      const shortest = Math.min(...lits.map((l) => l.length));
      if (best === undefined || shortest > Math.min(...best.map((l) => l.length))) best = lits;
    };
    for (const p of parts) {
      max += p.max;
      min += p.min;
      if (p.char !== undefined) {
        run += p.char;
        continue;
      }
      if (p.max === 0) continue; // anchors and flags do not break a literal run
      consider(run === '' ? undefined : [run]);
      run = '';
      consider(p.literals);
    }
    consider(run === '' ? undefined : [run]);
    return { max, min, literals: best };
  }

  function quantified(node: Node): Node {
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
    return quantified({ max: node.max === 0 ? 0 : node.max * hi, min: node.min * lo, literals });
  }

  function atom(): Node {
    const c = pattern[i]!;
    if (c === '(') {
      i++;
      if (peek() === '?') {
        const flags = /^\?(?:P?<[^>]*>|[a-zA-Z-]*(?::|\)))/.exec(pattern.slice(i));
        if (flags !== null) {
          i += flags[0].length;
          if (flags[0].endsWith(')')) return EMPTY; // (?i) sets flags for what follows
        }
      }
      const inner = alternation();
      i++; // ')'
      return inner;
    }
    if (c === '[') {
      skipClass();
      return ONE_CHAR;
    }
    if (c === '.') {
      i++;
      return ONE_CHAR;
    }
    if (c === '^' || c === '$') {
      i++;
      return EMPTY;
    }
    if (c === '\\') return escapeSequence();
    const cp = pattern.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    return { max: ch.length, min: ch.length, char: ch.toLowerCase(), literals: undefined };
  }

  function escapeSequence(): Node {
    const e = pattern[i + 1] ?? '';
    i += 2;
    if ('bBAz'.includes(e)) return EMPTY;
    if ('dDwWsS'.includes(e)) return ONE_CHAR;
    if (e === 'p' || e === 'P') {
      if (peek() === '{') i = pattern.indexOf('}', i) + 1;
      else i++;
      return ONE_CHAR;
    }
    if (e === 'Q') {
      const close = pattern.indexOf('\\E', i);
      const text = pattern.slice(i, close === -1 ? pattern.length : close);
      i = close === -1 ? pattern.length : close + 2;
      return {
        max: text.length,
        min: text.length,
        literals: text.length >= MIN_USEFUL_LITERAL ? [text.toLowerCase()] : undefined,
      };
    }
    if (e === 'x') {
      const m = /^(?:\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{2}))/.exec(pattern.slice(i));
      i += m?.[0].length ?? 0;
      const ch = String.fromCodePoint(parseInt(m?.[1] ?? m?.[2] ?? '0', 16));
      return { max: ch.length, min: ch.length, char: ch.toLowerCase(), literals: undefined };
    }
    if (/[0-7]/.test(e)) {
      while (/[0-7]/.test(peek() ?? '')) i++;
      return ONE_CHAR;
    }
    const ch = SIMPLE_ESCAPES[e] ?? e;
    return { max: 1, min: 1, char: ch.toLowerCase(), literals: undefined };
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

  const root = alternation();
  return { maxLength: root.max, requiredLiterals: root.literals };
}
