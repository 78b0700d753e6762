/**
 * Finds many literal strings in one pass (Aho-Corasick): a deny list of a thousand keywords or
 * a handful of configured secret values cost one walk over the text, not one per literal.
 */

export interface LiteralMatch {
  /** Index of the literal in the list the matcher was built from. */
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

export interface LiteralMatcher {
  /** The occurrences: at each position where literals start, the longest one (and, for very
   *  long lists searched by the automaton, every one, overlapping ones included). */
  findAll(text: string): LiteralMatch[];
}

interface Node {
  readonly next: Map<number, number>;
  fail: number;
  /** Literal indexes ending here, own and inherited through the failure links. */
  out: number[];
  readonly depth: number;
}

/** Case folding of one UTF-16 unit that keeps offsets: units whose lower case is longer stay. */
function foldUnit(code: number): number {
  if (code < 0x80) return code >= 0x41 && code <= 0x5a ? code + 32 : code;
  const lower = String.fromCharCode(code).toLowerCase();
  return lower.length === 1 ? lower.charCodeAt(0) : code;
}

/** Up to this many literals, V8's regular-expression engine searching an alternation of the
 *  escaped literals (which it dispatches on the first character) beats a JavaScript automaton
 *  (measured: 200 keywords over 2 KB, about 5 times faster) and one indexOf per literal (about
 *  15 times faster); past it the automaton's single pass wins. An alternation of literals has
 *  no nested repetition, so it cannot backtrack catastrophically. */
const REGEX_MAX_LITERALS = 2000;

export function createLiteralMatcher(
  literals: readonly string[],
  opts: { readonly caseSensitive: boolean },
): LiteralMatcher {
  if (literals.length > REGEX_MAX_LITERALS) return createAutomaton(literals, opts);
  const order = literals
    .map((l, index) => ({ l, index }))
    .filter((x) => x.l.length > 0)
    .sort((a, b) => b.l.length - a.l.length);
  if (order.length === 0) return { findAll: () => [] };
  const ascii = order.every((x) => !/[\u0080-\uffff]/.test(x.l));
  const flags = `g${opts.caseSensitive ? '' : 'i'}${ascii ? '' : 'u'}`;
  // Longest first, so the longest literal starting at a position wins there; the search then
  // resumes one unit later, so literals starting inside a match are found too.
  const re = new RegExp(order.map((x) => x.l.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|'), flags);
  const indexOf = new Map<string, number>();
  for (const x of [...order].reverse()) indexOf.set(opts.caseSensitive ? x.l : x.l.toLowerCase(), x.index);
  const key = opts.caseSensitive ? (s: string) => s : (s: string) => s.toLowerCase();
  return {
    findAll(text) {
      const found: LiteralMatch[] = [];
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        const hit = m[0];
        re.lastIndex = m.index + 1;
        const index =
          indexOf.get(key(hit)) ??
          order.find((x) => (re.flags.includes('i') ? x.l.toLowerCase() === hit.toLowerCase() : x.l === hit))?.index ??
          0;
        found.push({ index, start: m.index, end: m.index + hit.length });
      }
      return found;
    },
  };
}

function createAutomaton(literals: readonly string[], opts: { readonly caseSensitive: boolean }): LiteralMatcher {
  const fold = opts.caseSensitive ? (c: number) => c : foldUnit;
  const nodes: Node[] = [{ next: new Map(), fail: 0, out: [], depth: 0 }];
  literals.forEach((literal, index) => {
    let at = 0;
    for (let i = 0; i < literal.length; i++) {
      const c = fold(literal.charCodeAt(i));
      let to = nodes[at]!.next.get(c);
      if (to === undefined) {
        to = nodes.length;
        nodes.push({ next: new Map(), fail: 0, out: [], depth: nodes[at]!.depth + 1 });
        nodes[at]!.next.set(c, to);
      }
      at = to;
    }
    if (literal.length > 0) nodes[at]!.out.push(index);
  });
  // Breadth-first failure links: the longest proper suffix that is also a prefix in the trie.
  const queue: number[] = [...nodes[0]!.next.values()];
  for (let q = 0; q < queue.length; q++) {
    const from = queue[q]!;
    for (const [c, to] of nodes[from]!.next) {
      let f = nodes[from]!.fail;
      while (f !== 0 && !nodes[f]!.next.has(c)) f = nodes[f]!.fail;
      const target = nodes[f]!.next.get(c);
      nodes[to]!.fail = target !== undefined && target !== to ? target : 0;
      nodes[to]!.out = [...nodes[to]!.out, ...nodes[nodes[to]!.fail]!.out];
      queue.push(to);
    }
  }
  const lengths = literals.map((l) => l.length);
  return {
    findAll(text) {
      const found: LiteralMatch[] = [];
      let at = 0;
      for (let i = 0; i < text.length; i++) {
        const c = fold(text.charCodeAt(i));
        while (at !== 0 && !nodes[at]!.next.has(c)) at = nodes[at]!.fail;
        at = nodes[at]!.next.get(c) ?? 0;
        for (const index of nodes[at]!.out) found.push({ index, start: i + 1 - lengths[index]!, end: i + 1 });
      }
      return found;
    },
  };
}
