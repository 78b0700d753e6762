/**
 * Typed access to a parsed YAML document that records a problem (with its line and document
 * path) instead of throwing, so one pass over the file collects every mistake. Readers return
 * `undefined` for a value they rejected; the caller keeps going and `load.ts` throws at the end.
 */
import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import type { ConfigProblem } from './errors.ts';
import { nearest } from './nearest.ts';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (IDENTIFIER.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** A value in the document: its node (null when the key is absent) and where it sits. */
export interface Located {
  readonly node: Node | null;
  readonly path: string;
  /** Where to point when the node is absent: the enclosing map. */
  readonly anchor: Node | null;
}

export interface IntRule {
  readonly min: number;
  readonly max: number;
  readonly default?: number;
}

export class ConfigReader {
  readonly problems: ConfigProblem[] = [];
  readonly #doc: Document;
  readonly #lines: LineCounter;
  /** Paths the author most likely meant where a key or value was misspelt (see `settledProblems`). */
  readonly #meant: string[] = [];
  /** Problems that only hold because of another setting: problem → the setting's path. */
  readonly #causes = new WeakMap<ConfigProblem, string>();

  constructor(doc: Document, lines: LineCounter) {
    this.#doc = doc;
    this.#lines = lines;
  }

  report(at: Located | Node | null, message: string, path?: string): void {
    const node = at !== null && 'path' in at ? (at.node ?? at.anchor) : at;
    const p = path ?? (at !== null && 'path' in at ? at.path : '');
    const offset = node?.range?.[0];
    if (offset === undefined) {
      this.problems.push({ path: p, message });
      return;
    }
    const pos = this.#lines.linePos(offset);
    this.problems.push({ path: p, line: pos.line, column: pos.col, message });
  }

  /**
   * A problem that follows from another setting (`cause`, a document path): dropped from the
   * final report when that setting was itself misspelt, since fixing the typo changes it.
   */
  reportDependent(at: Located, cause: string, message: string): void {
    this.report(at, message);
    const added = this.problems[this.problems.length - 1];
    if (added !== undefined) this.#causes.set(added, cause);
  }

  /**
   * The problems to show: a misspelt key or value is reported once with its suggestion, and
   * the noise it causes (the key it meant "is required", settings that depend on it) is left
   * out, so the first error an operator reads is the typo.
   */
  settledProblems(): ConfigProblem[] {
    if (this.#meant.length === 0) return [...this.problems];
    const covered = (path: string): boolean =>
      this.#meant.some((m) => path === m || path.startsWith(`${m}.`) || path.startsWith(`${m}[`));
    return this.problems.filter((p) => {
      if (this.#meantBy.has(p)) return true;
      const cause = this.#causes.get(p);
      return !covered(p.path) && (cause === undefined || !covered(cause));
    });
  }

  /** The reports that carry a suggestion themselves: never filtered out. */
  readonly #meantBy = new WeakSet<ConfigProblem>();

  #suggest(at: Located | Node, path: string, message: string, meant: string): void {
    this.report(at, message, path);
    const added = this.problems[this.problems.length - 1];
    if (added !== undefined) this.#meantBy.add(added);
    this.#meant.push(meant);
  }

  reportOffset(offset: number, path: string, message: string): void {
    const pos = this.#lines.linePos(offset);
    this.problems.push({ path, line: pos.line, column: pos.col, message });
  }

  #deref(node: Node | null): Node | null {
    if (node !== null && isAlias(node)) return (node.resolve(this.#doc) as Node | undefined) ?? null;
    return node;
  }

  /** The entries of a map, reporting unknown keys; undefined when the value is not a map. */
  entries(at: Located, allowed: readonly string[] | null): Map<string, Located> | undefined {
    const node = this.#deref(at.node);
    if (node === null) return new Map();
    if (!isMap(node)) {
      this.report(at, `expected a map, got ${describe(node)}`);
      return undefined;
    }
    const out = new Map<string, Located>();
    for (const pair of node.items) {
      const keyNode = this.#deref(pair.key as Node | null);
      if (keyNode === null || !isScalar(keyNode) || typeof keyNode.value !== 'string') {
        this.report(keyNode ?? node, 'keys must be strings (quote the key)', at.path);
        continue;
      }
      const key = keyNode.value;
      const path = childPath(at.path, key);
      if (allowed !== null && !allowed.includes(key)) {
        const present = new Set(node.items.map((p) => (isScalar(p.key) ? p.key.value : undefined)));
        const guess = nearest(
          key,
          allowed.filter((k) => !present.has(k)),
        );
        if (guess === undefined) {
          this.report(keyNode, `unknown key '${key}' (expected one of: ${allowed.join(', ')})`, path);
        } else {
          this.#suggest(
            keyNode,
            path,
            `unknown key '${key}' (did you mean '${guess}'? expected one of: ${allowed.join(', ')})`,
            childPath(at.path, guess),
          );
        }
        continue;
      }
      out.set(key, { node: this.#deref(pair.value as Node | null), path, anchor: keyNode });
    }
    return out;
  }

  /** A sub-map by key; absent → an empty view anchored at the parent. */
  field(map: Map<string, Located> | undefined, parent: Located, key: string): Located {
    return map?.get(key) ?? { node: null, path: childPath(parent.path, key), anchor: parent.node ?? parent.anchor };
  }

  items(at: Located): Located[] | undefined {
    const node = this.#deref(at.node);
    if (node === null) return [];
    if (!isSeq(node)) {
      this.report(at, `expected a list, got ${describe(node)}`);
      return undefined;
    }
    return node.items.map((item, i) => ({
      node: this.#deref(item as Node | null),
      path: childPath(at.path, i),
      anchor: node,
    }));
  }

  #scalar(at: Located): unknown {
    return at.node !== null && isScalar(at.node) ? at.node.value : at.node === null ? undefined : NOT_SCALAR;
  }

  int(at: Located, rule: IntRule): number | undefined {
    const v = this.#scalar(at);
    if (v === undefined) return this.#missing(at, rule.default);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < rule.min || v > rule.max) {
      const got = typeof v === 'number' ? `got ${v}` : `got ${describe(at.node)}`;
      this.report(at, `expected an integer from ${rule.min} to ${rule.max}, ${got}`);
      return undefined;
    }
    return v;
  }

  /** A finite number (integer or decimal) within [min, max]. */
  number(
    at: Located,
    rule: { readonly min: number; readonly max: number; readonly default?: number },
  ): number | undefined {
    const v = this.#scalar(at);
    if (v === undefined) return this.#missing(at, rule.default);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < rule.min || v > rule.max) {
      const got = typeof v === 'number' ? `got ${v}` : `got ${describe(at.node)}`;
      this.report(at, `expected a number from ${rule.min} to ${rule.max}, ${got}`);
      return undefined;
    }
    return v;
  }

  bool(at: Located, fallback: boolean): boolean | undefined {
    const v = this.#scalar(at);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') {
      this.report(at, `expected true or false, got ${describe(at.node)}`);
      return undefined;
    }
    return v;
  }

  /**
   * A plain string; `fallback` undefined makes the key required. `${…}` is refused here so a
   * secret reference cannot end up somewhere it would be logged or shown.
   */
  str(at: Located, fallback?: string): string | undefined {
    const v = this.rawStr(at, fallback);
    if (v?.includes('${')) {
      this.report(at, '${…} references are only allowed in api_key, key_hash_secret, store.url and header values');
      return undefined;
    }
    return v;
  }

  /** A string that may hold `${…}` references. Values are never echoed (they may be secrets). */
  rawStr(at: Located, fallback?: string): string | undefined {
    const v = this.#scalar(at);
    if (v === undefined) return this.#missing(at, fallback);
    if (typeof v !== 'string') {
      this.report(at, `expected a string, got ${describe(at.node)}`);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(at: Located, values: readonly T[], fallback?: T): T | undefined {
    const v = this.str(at, fallback);
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v)) {
      const guess = nearest(v, values);
      if (guess === undefined) this.report(at, `expected one of: ${values.join(', ')}`);
      else this.#suggest(at, at.path, `expected one of: ${values.join(', ')} (did you mean '${guess}'?)`, at.path);
      return undefined;
    }
    return v as T;
  }

  #missing<T>(at: Located, fallback: T | undefined): T | undefined {
    if (fallback === undefined) this.report(at, 'is required');
    return fallback;
  }
}

const NOT_SCALAR = Symbol('not a scalar');

function describe(node: Node | null): string {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
    if (typeof v === 'boolean') return 'a boolean';
    if (typeof v === 'string') return 'a string';
  }
  return 'an unsupported value';
}

/** A file path (a non-empty string without NUL); the fallback when absent. */
export function readPath(r: ConfigReader, at: Located, fallback: string): string {
  const p = r.str(at, fallback);
  if (p === undefined) return fallback;
  if (p === '' || p.includes('\u0000')) {
    r.report(at, 'expected a non-empty file path');
    return fallback;
  }
  return p;
}
