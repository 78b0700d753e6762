/**
 * Typed placeholders for redacted spans: `[EMAIL_1]`, `[CARD_2]`. One numbering per request,
 * shared by its input and output, so the same value always gets the same placeholder and a
 * model can still tell two different addresses apart. The values live only in this per-request
 * map (never logged, never stored) and are dropped with the request.
 */
import type { GuardFinding } from './detector.ts';

export interface Placeholders {
  /** The placeholder of `value` found as `type`, numbering a new value per type. */
  placeholderFor(type: string, value: string): string;
}

const TYPE_CHARS = /[^A-Z0-9_]/g;

export function createPlaceholders(): Placeholders {
  const byType = new Map<string, Map<string, string>>();
  return {
    placeholderFor(type, value) {
      const safeType = type.toUpperCase().replace(TYPE_CHARS, '_').slice(0, 48) || 'REDACTED';
      let values = byType.get(safeType);
      if (values === undefined) {
        values = new Map();
        byType.set(safeType, values);
      }
      let p = values.get(value);
      if (p === undefined) {
        p = `[${safeType}_${values.size + 1}]`;
        values.set(value, p);
      }
      return p;
    },
  };
}

/**
 * Non-overlapping spans to replace, in text order: overlapping findings (two detectors on one
 * span, an email inside a URL) merge into one span typed by the one that starts first (the
 * longer on a tie). Spans outside the text are ignored.
 */
export function mergeSpans(findings: readonly GuardFinding[], textLength: number): GuardFinding[] {
  const valid = findings.filter(
    (f) =>
      Number.isInteger(f.start) && Number.isInteger(f.end) && f.start >= 0 && f.end <= textLength && f.start < f.end,
  );
  valid.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: GuardFinding[] = [];
  for (const f of valid) {
    const last = out[out.length - 1];
    if (last !== undefined && f.start < last.end) {
      if (f.end > last.end) out[out.length - 1] = { ...last, end: f.end };
      continue;
    }
    out.push(f);
  }
  return out;
}

/** `text` with every finding's span replaced by its placeholder. */
export function redactText(text: string, findings: readonly GuardFinding[], placeholders: Placeholders): string {
  const spans = mergeSpans(findings, text.length);
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + placeholders.placeholderFor(s.type, text.slice(s.start, s.end));
    at = s.end;
  }
  return out + text.slice(at);
}
