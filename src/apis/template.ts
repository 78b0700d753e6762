/**
 * Logic-less prompt templates. A template is a fixed list of messages (role + text); the text
 * may hold `{{name}}` placeholders and nothing else: no sections, no conditionals, no partials,
 * no helpers, no file or network access. Templates are compiled once, when the version is
 * defined, into literal text and variable slots; rendering fills the slots in one pass. A
 * variable's value is data: it is never parsed for placeholders, never decides a role and can
 * never add, remove or split a message, whatever characters it holds.
 */
import type { SchemaIssue } from './json-schema.ts';

export const TEMPLATE_ROLES = ['system', 'user', 'assistant'] as const;
export type TemplateRole = (typeof TEMPLATE_ROLES)[number];

export interface TemplateMessage {
  readonly role: TemplateRole;
  readonly content: string;
}

type Segment = { readonly text: string } | { readonly variable: string };

export interface CompiledTemplate {
  readonly messages: ReadonlyArray<{ readonly role: TemplateRole; readonly segments: readonly Segment[] }>;
  /** Every variable named by a placeholder. */
  readonly variables: ReadonlySet<string>;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}/g;
export const MAX_TEMPLATE_MESSAGES = 20;
export const MAX_TEMPLATE_CHARS = 32_000;

/** Compiles the messages; issues name the JSON path (`messages[1].content`). */
export function compileTemplate(
  messages: readonly TemplateMessage[],
  path = 'messages',
): { template?: CompiledTemplate; issues: SchemaIssue[] } {
  const issues: SchemaIssue[] = [];
  const variables = new Set<string>();
  const compiled: Array<{ role: TemplateRole; segments: Segment[] }> = [];
  messages.forEach((m, i) => {
    const at = `${path}[${i}].content`;
    const segments: Segment[] = [];
    let last = 0;
    for (const match of m.content.matchAll(PLACEHOLDER)) {
      const literal = m.content.slice(last, match.index);
      if (/\{\{|\}\}/.test(literal))
        issues.push({ path: at, message: 'has "{{" or "}}" that is not a {{name}} placeholder' });
      if (literal !== '') segments.push({ text: literal });
      segments.push({ variable: match[1]! });
      variables.add(match[1]!);
      last = match.index + match[0].length;
    }
    if (/\{\{\{|\}\}\}/.test(m.content))
      issues.push({
        path: at,
        message: 'has "{{{" or "}}}": only {{name}} placeholders exist (no raw or unescaped forms)',
      });
    const tail = m.content.slice(last);
    if (/\{\{|\}\}/.test(tail))
      issues.push({ path: at, message: 'has "{{" or "}}" that is not a {{name}} placeholder' });
    if (tail !== '') segments.push({ text: tail });
    compiled.push({ role: m.role, segments });
  });
  return issues.length > 0 ? { issues } : { template: { messages: compiled, variables }, issues };
}

/** Text of a variable's value: strings as they are, anything else as compact JSON, absent as ''. */
function valueText(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The messages with every slot filled: exactly as many messages, with the same roles, as the template has. */
export function renderTemplate(
  template: CompiledTemplate,
  variables: Readonly<Record<string, unknown>>,
): Array<{ role: TemplateRole; content: string }> {
  return template.messages.map((m) => ({
    role: m.role,
    content: m.segments
      .map((s) =>
        'text' in s ? s.text : valueText(Object.hasOwn(variables, s.variable) ? variables[s.variable] : undefined),
      )
      .join(''),
  }));
}
