/**
 * Which configured rules apply to one request, shared by rate limits (src/limits/rules.ts) and
 * budgets (src/stages/budget/rules.ts): a rule applies when its model filter (a pattern, `*`
 * wildcard) matches the public model asked for, its scope has a subject for this caller (a
 * `team` rule does not apply to a caller without a team) and, when the rule names a subject,
 * it is this caller's. Each feature says what subject a scope counts; this decides the rest.
 */
import { createHash } from 'node:crypto';
import { BoundedMap } from '../core/bounded-map.ts';
import { modelAllowed } from './model-patterns.ts';

export interface SelectableRule {
  /** Model pattern; absent: every model. */
  readonly model?: string | undefined;
  /** The one subject the rule is for; absent: every subject of its scope. */
  readonly subject?: string | undefined;
}

export interface SelectedRule<R> {
  readonly rule: R;
  /** The caller's subject for the rule's scope (never empty). */
  readonly subject: string;
}

/** The rules that apply, in configured order, each with the caller's subject for its scope. */
export function selectRules<R extends SelectableRule>(
  rules: readonly R[],
  model: string,
  subjectOf: (rule: R) => string | undefined,
): SelectedRule<R>[] {
  const out: SelectedRule<R>[] = [];
  for (const rule of rules) {
    if (rule.model !== undefined && !modelAllowed([rule.model], model)) continue;
    const subject = subjectOf(rule);
    if (subject === undefined || subject === '') continue;
    if (rule.subject !== undefined && rule.subject !== subject) continue;
    out.push({ rule, subject });
  }
  return out;
}

/** Subjects encoded lately (every limited or budgeted request encodes its caller's again), bounded: distinct JWT subjects cannot grow it. */
const encoded = new BoundedMap<string, string>(4096);

/** A subject as a counter key part: short ones stay readable in Redis; long ones (JWT subjects) are hashed to bound key size. */
export function encodeSubject(subject: string): string {
  return encoded.upsert(subject, () =>
    subject.length <= 128
      ? encodeURIComponent(subject)
      : `sha256-${createHash('sha256').update(subject).digest('base64url')}`,
  );
}
