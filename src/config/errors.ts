/**
 * A config file is rejected with every problem found, not just the first, so an operator fixes
 * the file in one pass. Messages name where (file, line:column, document path) and what was
 * expected; they never carry a secret's value.
 */

export interface ConfigProblem {
  /** Path in the document, e.g. `models["gpt-4o"].targets[0].weight`; '' for the whole file. */
  readonly path: string;
  /** 1-based, when the YAML parser could place the problem. */
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

export class ConfigError extends Error {
  readonly source: string;
  readonly problems: readonly ConfigProblem[];

  constructor(source: string, problems: readonly ConfigProblem[]) {
    super(formatProblems(source, problems));
    this.name = 'ConfigError';
    this.source = source;
    this.problems = Object.freeze([...problems]);
  }
}

export function formatProblem(source: string, p: ConfigProblem): string {
  const where = p.line !== undefined ? `${source}:${p.line}:${p.column ?? 1}` : source;
  const what = p.path === '' ? p.message : `${p.path}: ${p.message}`;
  return `${where}: ${what}`;
}

function formatProblems(source: string, problems: readonly ConfigProblem[]): string {
  const n = problems.length;
  const head = `Invalid config ${source} (${n} problem${n === 1 ? '' : 's'}):`;
  const sorted = [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return [head, ...sorted.map((p) => `  - ${formatProblem(source, p)}`)].join('\n');
}
