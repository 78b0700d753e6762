/**
 * The policy document: the policy sections of the config file (POLICY_SECTIONS) as data, kept
 * in the store as versions. This module splits a config file into its bootstrap part and a
 * policy document, reads a policy document with the config file's own readers (every problem
 * at once, with line, column and path; unknown keys refused; nothing clamped), composes the
 * bootstrap and a document into a full GatewayConfig, and gives the canonical form, its
 * SHA-256 and a semantic diff.
 *
 * A document never holds a secret value: the readers refuse literal secrets (the `secret` key
 * kind), and the stored document is the text as written, so `${…}` references stay references
 * and are resolved by each instance, with its own environment, when it composes the config.
 */
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { type Document, isMap, isScalar, isSeq, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import { deepFreeze } from '../config/deep-freeze.ts';
import { ConfigError, type ConfigProblem } from '../config/errors.ts';
import { documentData, parseConfigText, readConfigDocument, readConfigText } from '../config/load.ts';
import { childPath } from '../config/reader.ts';
import type { GatewayConfig } from '../config/types.ts';
import { POLICY_SECTIONS, type PolicySection } from '../policy/contract.ts';

/** Plain data: what YAML or JSON can hold. */
export type PolicyData = null | boolean | number | string | PolicyData[] | { [key: string]: PolicyData };

/** A policy document: some of the POLICY_SECTIONS (an absent section has its defaults). */
export type PolicyDocument = { readonly [S in PolicySection]?: PolicyData };

/**
 * Settings written inside a policy section that are nevertheless bootstrap: tied to the host
 * or read once at start. A policy document may not hold them; the split keeps them with the
 * bootstrap part and composition puts them back. (`limits.redis`, the older form of the
 * top-level `redis` section, is handled by the split: it becomes `redis`.)
 */
export const BOOTSTRAP_FIELDS: ReadonlyArray<readonly [PolicySection, string]> = [['alerts', 'dead_letter_path']];

/** The config file without its policy: what needs a restart. `${…}` references unresolved. */
export interface Bootstrap {
  /** Top-level sections (and BOOTSTRAP_FIELDS under their policy section) as plain data. */
  readonly data: Readonly<Record<string, PolicyData>>;
  /** The config file path (or `<demo>`): becomes `GatewayConfig.source`. */
  readonly source: string;
  /** Relative paths in the bootstrap and in `${file:…}` references resolve from here. */
  readonly baseDir: string;
  /** Where `${…}` references resolve when no environment is passed (default: process.env; the demo sets its own). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The `${…}` references (names as written inside the braces) a document may use: those of the
   * file's own policy sections plus `policy.allowed_references`. Any other is refused, so a
   * policy change cannot route a bootstrap secret (master key, database URL) to a provider it
   * controls. Undefined (a bootstrap built in code): no restriction.
   */
  readonly references?: readonly string[];
}

export interface ConfigSplit {
  readonly bootstrap: Bootstrap;
  readonly document: PolicyDocument;
}

/** A document that passed every reader: its canonical text, hash and the config it composes to. */
export interface ValidPolicy {
  readonly document: PolicyDocument;
  readonly canonical: string;
  readonly sha256: string;
  readonly config: GatewayConfig;
}

const isSection = (k: string): k is PolicySection => (POLICY_SECTIONS as readonly string[]).includes(k);

function isRecord(v: unknown): v is Record<string, PolicyData> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Splits config text into bootstrap and policy. Syntax errors throw a ConfigError; nothing else is validated here. */
export function splitConfigText(text: string, source: string, baseDir?: string): ConfigSplit {
  const { doc } = parseConfigText(text, source);
  const data = documentData(doc) ?? {};
  if (!isRecord(data)) throw new ConfigError(source, [{ path: '', message: 'expected a map of settings' }]);
  const boot: Record<string, PolicyData> = {};
  const policy: Record<string, PolicyData> = {};
  for (const [key, value] of Object.entries(data)) {
    if (isSection(key)) policy[key] = value;
    else boot[key] = value;
  }
  // The older `limits.redis` is the deployment's Redis connection: bootstrap, as `redis`.
  const limits = policy.limits;
  if (isRecord(limits) && 'redis' in limits && boot.redis === undefined) {
    const { redis, ...rest } = limits;
    boot.redis = redis ?? null;
    policy.limits = rest;
  }
  for (const [sectionName, field] of BOOTSTRAP_FIELDS) {
    const sec = policy[sectionName];
    if (!isRecord(sec) || !(field in sec)) continue;
    const { [field]: kept, ...rest } = sec;
    boot[sectionName] = { [field]: kept ?? null };
    policy[sectionName] = rest;
  }
  const dir = baseDir ?? (source.startsWith('<') ? process.cwd() : dirname(resolve(source)));
  const references = new Set<string>();
  collectReferences(policy, references);
  const settings = boot.policy;
  const allowed = isRecord(settings) ? settings.allowed_references : undefined;
  if (Array.isArray(allowed)) for (const a of allowed) if (typeof a === 'string') references.add(a);
  return {
    bootstrap: { data: boot, source, baseDir: dir, references: [...references].sort() },
    document: policy,
  };
}

const REFERENCE = /\$\{([^}]*)\}/g;

function collectReferences(v: unknown, out: Set<string>): void {
  if (typeof v === 'string') for (const m of v.matchAll(REFERENCE)) out.add(m[1] ?? '');
  else if (Array.isArray(v)) for (const x of v) collectReferences(x, out);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) collectReferences(x, out);
}

/** Reads and splits a config file (same size and type checks as loading it). */
export function splitConfigFile(path: string): ConfigSplit {
  const full = resolve(path);
  return splitConfigText(readConfigText(full), full, dirname(full));
}

/**
 * Reads a policy document (YAML or JSON text) against a bootstrap: refuses any section or
 * field that is not policy, then runs every reader over bootstrap + document. Throws one
 * ConfigError naming every problem (positions are in `text`); returns the valid document,
 * its canonical form and hash, and the composed config (secrets resolved from `env`).
 */
export function readPolicyDocument(
  text: string,
  source: string,
  bootstrap: Bootstrap,
  env: NodeJS.ProcessEnv = bootstrap.env ?? process.env,
): ValidPolicy {
  const { doc, lines } = parseConfigText(text, source);
  const problems: ConfigProblem[] = [];
  if (doc.contents === null) doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
  const root = doc.contents as Node | null;
  if (!isMap(root)) throw new ConfigError(source, [{ path: '', message: 'expected a map of policy sections' }]);
  refuseBootstrap(root, lines, problems);
  if (bootstrap.references !== undefined) {
    const before = problems.length;
    refuseReferences(root, '', new Set(bootstrap.references), lines, problems);
    // The readers would resolve those references (read the file, look the variable up): they do not run.
    if (problems.length > before) throw new ConfigError(source, problems);
  }
  const data = documentData(doc);
  const document = (isRecord(data) ? data : {}) as PolicyDocument;
  mergeBootstrap(doc, root, bootstrap);
  let config: GatewayConfig | undefined;
  try {
    config = readConfigDocument(doc, lines, source, env, bootstrap.baseDir);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0 || config === undefined) throw new ConfigError(source, problems);
  const canonical = canonicalJson(document);
  return {
    document,
    canonical,
    sha256: sha256Hex(canonical),
    config: deepFreeze({ ...config, source: bootstrap.source }),
  };
}

/**
 * The config an instance runs for a stored version: the bootstrap with the version's document,
 * `${…}` resolved from this instance's `env`. Throws ConfigError (e.g. a variable missing here).
 */
export function composeConfig(
  bootstrap: Bootstrap,
  document: string,
  env: NodeJS.ProcessEnv = bootstrap.env ?? process.env,
  source = 'policy document',
): GatewayConfig {
  return readPolicyDocument(document, source, bootstrap, env).config;
}

function position(lines: LineCounter, node: Node | null | undefined): { line?: number; column?: number } {
  const offset = node?.range?.[0];
  if (offset === undefined) return {};
  const p = lines.linePos(offset);
  return { line: p.line, column: p.col };
}

/** Removes (and reports) top-level sections and fields that are bootstrap, so the readers do not see them. */
function refuseBootstrap(root: YAMLMap, lines: LineCounter, problems: ConfigProblem[]): void {
  const keep: Pair[] = [];
  for (const pair of root.items) {
    const keyNode = pair.key as Node | null;
    const key = isScalar(keyNode) ? keyNode.value : undefined;
    if (typeof key !== 'string') {
      problems.push({ path: '', ...position(lines, keyNode), message: 'keys must be strings (quote the key)' });
      continue;
    }
    if (!isSection(key)) {
      problems.push({
        path: childPath('', key),
        ...position(lines, keyNode),
        message: `'${key}' is not policy: it is a bootstrap setting, changed in the config file with a restart (policy sections: ${POLICY_SECTIONS.join(', ')})`,
      });
      continue;
    }
    const fields: Array<readonly [string, string]> = [
      ...(key === 'limits' ? [['redis', 'use the top-level redis section of the config file'] as const] : []),
      ...BOOTSTRAP_FIELDS.filter(([s]) => s === key).map(
        ([, f]) => [f, 'it is a path on the host, set in the config file'] as const,
      ),
    ];
    const value = pair.value as Node | null;
    if (isMap(value)) {
      value.items = value.items.filter((inner) => {
        const k = isScalar(inner.key) ? inner.key.value : undefined;
        const hit = fields.find(([f]) => f === k);
        if (hit === undefined) return true;
        problems.push({
          path: childPath(childPath('', key), hit[0]),
          ...position(lines, inner.key as Node),
          message: `is bootstrap, not policy (${hit[1]})`,
        });
        return false;
      });
    }
    keep.push(pair);
  }
  root.items = keep;
}

/** Reports every `${…}` reference the bootstrap does not allow in policy, with its position. */
function refuseReferences(
  node: Node | null,
  path: string,
  allowed: ReadonlySet<string>,
  lines: LineCounter,
  problems: ConfigProblem[],
): void {
  if (node === null) return;
  if (isScalar(node)) {
    if (typeof node.value !== 'string') return;
    for (const m of node.value.matchAll(REFERENCE)) {
      const ref = m[1] ?? '';
      if (!allowed.has(ref))
        problems.push({
          path,
          ...position(lines, node),
          message: `\${${ref}} is not allowed in policy: only references the config file's policy sections use, or policy.allowed_references lists, may appear in a policy version`,
        });
    }
    return;
  }
  if (isMap(node)) {
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? pair.key.value : undefined;
      refuseReferences(
        pair.value as Node | null,
        typeof k === 'string' ? childPath(path, k) : path,
        allowed,
        lines,
        problems,
      );
    }
    return;
  }
  if (isSeq(node))
    for (const [i, item] of node.items.entries())
      refuseReferences(item as Node | null, childPath(path, i), allowed, lines, problems);
}

/** Adds the bootstrap sections (and BOOTSTRAP_FIELDS inside policy sections) to the document. */
function mergeBootstrap(doc: Document, root: YAMLMap, bootstrap: Bootstrap): void {
  for (const [key, value] of Object.entries(bootstrap.data)) {
    if (!isSection(key)) {
      root.set(doc.createNode(key), doc.createNode(value));
      continue;
    }
    if (!isRecord(value)) continue;
    const existing = root.get(key, true) as Node | undefined;
    if (existing === undefined || (isScalar(existing) && existing.value === null)) {
      root.set(doc.createNode(key), doc.createNode(value));
    } else if (isMap(existing)) {
      for (const [f, v] of Object.entries(value)) existing.set(doc.createNode(f), doc.createNode(v));
    }
    // Anything else is not a map: its reader reports that, with the document's position.
  }
}

/** JSON with object keys sorted at every level and no whitespace: equal data, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** SHA-256 of a document's canonical form: the `sha256` of a version. */
export function policySha256(document: PolicyDocument): string {
  return sha256Hex(canonicalJson(document));
}

export interface PolicyChange {
  /** Where, in the config file's path syntax (`limits.rules[0].requests_per_minute`). */
  readonly path: string;
  readonly kind: 'added' | 'removed' | 'changed';
  readonly before?: PolicyData;
  readonly after?: PolicyData;
}

/**
 * What changed from `before` to `after`, by path, in path order: maps key by key, lists item by
 * item (an item appended shows as added at its index). A value whose type changed (a list
 * became a map) is one change at its path.
 */
export function diffPolicy(before: PolicyDocument, after: PolicyDocument): PolicyChange[] {
  const out: PolicyChange[] = [];
  walk(before as PolicyData, after as PolicyData, '', out);
  return out;
}

function walk(a: PolicyData | undefined, b: PolicyData | undefined, path: string, out: PolicyChange[]): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined) {
    out.push({ path, kind: 'added', after: b as PolicyData });
    return;
  }
  if (b === undefined) {
    out.push({ path, kind: 'removed', before: a });
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], childPath(path, i), out);
    return;
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) walk(a[k], b[k], childPath(path, k), out);
    return;
  }
  if (canonicalJson(a) !== canonicalJson(b)) out.push({ path, kind: 'changed', before: a, after: b });
}

/** SHA-256 of a diff's canonical form: what audit records carry to name a change. */
export function diffSha256(changes: readonly PolicyChange[]): string {
  return sha256Hex(canonicalJson(changes));
}

/** The canonical text of a stored version, parsed back (it is JSON written by canonicalJson). */
export function parseStoredDocument(text: string): PolicyDocument {
  const v = JSON.parse(text) as unknown;
  if (!isRecord(v)) throw new TypeError('a stored policy document is a JSON object');
  return v as PolicyDocument;
}
