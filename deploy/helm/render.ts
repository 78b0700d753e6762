/**
 * Renders deploy/helm/portcullis without Helm, for the tests and for machines without it:
 *
 *   node deploy/helm/render.ts deploy/helm/portcullis [--values FILE] [--set a.b=VALUE]… [--release NAME] [--namespace NS]
 *
 * It implements the subset of Helm's Go templates the chart is written in, with Go's
 * semantics, and refuses anything else, so a template that strays from the subset fails the
 * chart test instead of rendering wrongly:
 *   {{ .Values.a.b }} {{ .Release.Name }} {{ .Release.Namespace }} {{ .Chart.Name }}
 *   {{ .Chart.Version }} {{ .Chart.AppVersion }}, "string" and number literals,
 *   pipelines through quote, toYaml, nindent N, indent N, default X, not X,
 *   {{ if … }} {{ else }} {{ end }}, {{/* comments *\/}}, and the {{- -}} whitespace trims.
 * Helm itself renders the same templates to the same documents (toYaml's key order and
 * quoting may differ; the YAML values do not).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse, parseAllDocuments, stringify } from 'yaml';

export interface RenderContext {
  readonly Values: unknown;
  readonly Release: { readonly Name: string; readonly Namespace: string; readonly Service: string };
  readonly Chart: { readonly Name: string; readonly Version: string; readonly AppVersion: string };
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'out'; expr: string }
  | { kind: 'if'; cond: string; whenTrue: Node[]; whenFalse: Node[] };

export class TemplateError extends Error {}

const ACTION = /\{\{(-?)(\s*)([\s\S]*?)(\s*)(-?)\}\}/g;

/** Splits into text and actions, applying the `{{-`/`-}}` trims as Go does (any whitespace, newlines included). */
function tokenize(src: string): Array<{ text: string } | { action: string }> {
  const out: Array<{ text: string } | { action: string }> = [];
  let last = 0;
  let trimNext = false;
  for (const m of src.matchAll(ACTION)) {
    const [whole, leftDash, leftSpace, body, rightSpace, rightDash] = m as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if ((leftDash && !leftSpace) || (rightDash && !rightSpace))
      throw new TemplateError(`a trim marker needs a space after/before it: ${whole}`);
    let text = src.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (leftDash) text = text.replace(/\s+$/, '');
    if (text !== '') out.push({ text });
    out.push({ action: body! });
    trimNext = rightDash === '-';
    last = m.index! + whole.length;
  }
  let tail = src.slice(last);
  if (trimNext) tail = tail.replace(/^\s+/, '');
  if (tail !== '') out.push({ text: tail });
  return out;
}

export function parseTemplate(src: string, name = 'template'): Node[] {
  const root: Node[] = [];
  const stack: Array<{ node: Extract<Node, { kind: 'if' }>; inElse: boolean }> = [];
  const target = (): Node[] => {
    const top = stack[stack.length - 1];
    return top === undefined ? root : top.inElse ? top.node.whenFalse : top.node.whenTrue;
  };
  for (const tok of tokenize(src)) {
    if ('text' in tok) {
      target().push({ kind: 'text', text: tok.text });
      continue;
    }
    const a = tok.action.trim();
    if (a.startsWith('/*')) {
      if (!a.endsWith('*/')) throw new TemplateError(`${name}: unterminated comment`);
      continue;
    }
    const word = /^(\w+)\b\s*([\s\S]*)$/.exec(a);
    const kw = word?.[1];
    if (kw === 'if') {
      const node: Extract<Node, { kind: 'if' }> = { kind: 'if', cond: word![2]!, whenTrue: [], whenFalse: [] };
      target().push(node);
      stack.push({ node, inElse: false });
    } else if (kw === 'else') {
      const top = stack[stack.length - 1];
      if (top === undefined || top.inElse || word![2] !== '') throw new TemplateError(`${name}: unexpected {{ ${a} }}`);
      top.inElse = true;
    } else if (kw === 'end') {
      if (stack.pop() === undefined) throw new TemplateError(`${name}: {{ end }} without {{ if }}`);
    } else if (
      kw !== undefined &&
      ['range', 'with', 'define', 'template', 'include', 'block', 'tpl', 'required', 'lookup'].includes(kw)
    ) {
      throw new TemplateError(
        `${name}: "${kw}" is outside the template subset this chart is written in (see deploy/helm/render.ts)`,
      );
    } else {
      target().push({ kind: 'out', expr: a });
    }
  }
  if (stack.length > 0) throw new TemplateError(`${name}: {{ if }} without {{ end }}`);
  return root;
}

export function renderTemplate(src: string, ctx: RenderContext, name = 'template'): string {
  const run = (nodes: Node[]): string =>
    nodes
      .map((n) => {
        if (n.kind === 'text') return n.text;
        if (n.kind === 'out') return toText(evalPipeline(n.expr, ctx, name));
        return truthy(evalPipeline(n.cond, ctx, name)) ? run(n.whenTrue) : run(n.whenFalse);
      })
      .join('');
  return run(parseTemplate(src, name));
}

function splitPipeline(expr: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '"' && expr[i - 1] !== '\\') quoted = !quoted;
    if (c === '|' && !quoted) {
      parts.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  parts.push(cur.trim());
  return parts;
}

function words(cmd: string): string[] {
  return [...cmd.matchAll(/"(?:[^"\\]|\\.)*"|\S+/g)].map((m) => m[0]);
}

function operand(tok: string, ctx: RenderContext, name: string): unknown {
  if (tok.startsWith('"')) return JSON.parse(tok) as string;
  if (/^-?\d+(\.\d+)?$/.test(tok)) return Number(tok);
  if (tok === 'true' || tok === 'false') return tok === 'true';
  const m = /^\.(Values|Release|Chart)((?:\.[A-Za-z_][\w]*)*)$/.exec(tok);
  if (m === null) throw new TemplateError(`${name}: cannot evaluate "${tok}" (outside the template subset)`);
  let v: unknown = ctx[m[1] as keyof RenderContext];
  for (const key of m[2]!.split('.').filter(Boolean)) {
    // Go templates yield <no value> for a missing key; Helm renders it as empty. Refuse instead:
    // a misspelt value path should fail the chart test, not render an empty field.
    if (v === null || typeof v !== 'object' || !(key in (v as object)))
      throw new TemplateError(`${name}: ${tok} is not set (a typo, or a value missing from values.yaml)`);
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

const FUNCS: Readonly<Record<string, (args: unknown[]) => unknown>> = {
  quote: (a) => JSON.stringify(toText(a[0])),
  toYaml: (a) => (a[0] === undefined || a[0] === null ? '' : stringify(a[0], { lineWidth: 0 }).replace(/\n$/, '')),
  nindent: (a) => `\n${indentText(String(a[1] ?? ''), Number(a[0]))}`,
  indent: (a) => indentText(String(a[1] ?? ''), Number(a[0])),
  default: (a) => (truthy(a[1]) ? a[1] : a[0]),
  not: (a) => !truthy(a[0]),
};

function evalPipeline(expr: string, ctx: RenderContext, name: string): unknown {
  let value: unknown;
  splitPipeline(expr).forEach((cmd, i) => {
    const [head, ...rest] = words(cmd);
    if (head === undefined) throw new TemplateError(`${name}: empty command in "${expr}"`);
    const fn = FUNCS[head];
    if (fn === undefined) {
      if (i > 0 || rest.length > 0)
        throw new TemplateError(`${name}: unknown function "${head}" (outside the template subset)`);
      value = operand(head, ctx, name);
      return;
    }
    const args = rest.map((t) => operand(t, ctx, name));
    value = fn(i > 0 ? [...args, value] : args);
  });
  return value;
}

function indentText(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

/** Go template truthiness: false, 0, nil, and empty strings, lists and maps are false. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') throw new TemplateError('a map or list printed without toYaml');
  return String(v);
}

/** Deep merge, as Helm merges --values files and --set over the chart's values.yaml. */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (
    over === null ||
    typeof over !== 'object' ||
    Array.isArray(over) ||
    base === null ||
    typeof base !== 'object' ||
    Array.isArray(base)
  )
    return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) out[k] = mergeValues(out[k], v);
  return out;
}

export function setValue(values: unknown, assignment: string): unknown {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new TemplateError(`--set expects a.b=VALUE, got "${assignment}"`);
  const path = assignment.slice(0, eq).split('.');
  const raw = assignment.slice(eq + 1);
  let leaf: unknown = parse(raw) as unknown;
  for (const key of path.reverse()) leaf = { [key]: leaf };
  return mergeValues(values, leaf);
}

export interface RenderedChart {
  /** Template file name → rendered text. */
  readonly files: ReadonlyMap<string, string>;
  /** Every non-empty YAML document of every template, parsed. */
  readonly manifests: ReadonlyArray<Record<string, unknown>>;
}

export function renderChart(
  chartDir: string,
  opts: { values?: unknown; release?: string; namespace?: string } = {},
): RenderedChart {
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as {
    name: string;
    version: string;
    appVersion: string;
  };
  const defaults = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as unknown;
  const ctx: RenderContext = {
    Values: mergeValues(defaults, opts.values ?? {}),
    Release: { Name: opts.release ?? 'portcullis', Namespace: opts.namespace ?? 'default', Service: 'Helm' },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const files = new Map<string, string>();
  const manifests: Array<Record<string, unknown>> = [];
  for (const file of readdirSync(join(chartDir, 'templates'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const text = renderTemplate(readFileSync(join(chartDir, 'templates', file), 'utf8'), ctx, file);
    files.set(file, text);
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0)
        throw new TemplateError(`${file}: rendered YAML is invalid: ${doc.errors[0]!.message}`);
      const value = doc.toJS() as unknown;
      if (value !== null && value !== undefined) manifests.push(value as Record<string, unknown>);
    }
  }
  return { files, manifests };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      values: { type: 'string', multiple: true, short: 'f' },
      set: { type: 'string', multiple: true },
      release: { type: 'string' },
      namespace: { type: 'string' },
    },
  });
  const chartDir = positionals[0] ?? join(import.meta.dirname, 'portcullis');
  let merged: unknown = {};
  for (const f of values.values ?? []) merged = mergeValues(merged, parse(readFileSync(f, 'utf8')));
  for (const s of values.set ?? []) merged = setValue(merged, s);
  const out = renderChart(chartDir, {
    values: merged,
    ...(values.release ? { release: values.release } : {}),
    ...(values.namespace ? { namespace: values.namespace } : {}),
  });
  for (const [file, text] of out.files) {
    if (text.trim() === '') continue;
    process.stdout.write(`---\n# Source: portcullis/templates/${file}\n${text.trim()}\n`);
  }
}
