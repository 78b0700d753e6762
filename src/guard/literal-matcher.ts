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
  /** Every occurrence, overlapping ones included, in order of their end. */
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

export function createLiteralMatcher(literals: readonly string[], opts: { readonly caseSensitive: boolean }): LiteralMatcher {
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
