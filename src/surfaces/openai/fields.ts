/**
 * Field-level helpers shared by the OpenAI request schemas, on top of `../validation.ts`.
 *
 * Why no passthrough of unknown fields: every field the gateway forwards must have been read
 * by the policy, guard, limit and audit stages, which only see the canonical type. An unknown
 * field passed through would reach the provider unchecked (a smuggling channel around
 * guardrails and budgets); one dropped silently would change what the client asked for
 * without telling it (`tempreature: 0` becoming the default temperature). So an unknown field
 * is an error naming its path, with a suggestion when it looks like a typo, and a field
 * OpenAI defines but the gateway cannot carry is an error saying so.
 */
import { expectNumber, invalid, type Json, joinPath } from '../validation.ts';

/** Fields OpenAI defines that the gateway refuses, each with the reason shown to the client. */
export type UnsupportedFields = ReadonlyMap<string, string>;

export const NOT_SUPPORTED = 'not supported by this gateway';

/**
 * Refuses any key outside `allowed`. A key in `unsupported` is refused with its reason unless
 * its value is null, which OpenAI defines as "use the default" for those fields.
 */
export function checkFields(
  obj: Record<string, Json>,
  path: string,
  allowed: ReadonlySet<string>,
  unsupported: UnsupportedFields = new Map(),
): void {
  for (const key of Object.keys(obj)) {
    if (allowed.has(key)) continue;
    const reason = unsupported.get(key);
    if (reason !== undefined) {
      if (obj[key] === null) continue;
      throw invalid(joinPath(path, key), reason);
    }
    const guess = closest(key, allowed);
    throw invalid(
      joinPath(path, displayKey(key)),
      guess === undefined ? 'unknown field' : `unknown field (did you mean "${guess}"?)`,
    );
  }
}

/** Reads a required field. */
export function required<T>(obj: Record<string, Json>, key: string, path: string, check: (v: Json, p: string) => T): T {
  const v = obj[key];
  if (v === undefined) throw invalid(joinPath(path, key), 'required field is missing');
  return check(v, joinPath(path, key));
}

/** Reads an optional field for which OpenAI documents `null` as "not set". */
export function nullable<T>(
  obj: Record<string, Json>,
  key: string,
  path: string,
  check: (v: Json, p: string) => T,
): T | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  return check(v, joinPath(path, key));
}

/** An integer that survives a round trip through JSON and every provider's int64. */
export function expectInteger(v: Json, path: string, opts: { min?: number; max?: number } = {}): number {
  return expectNumber(v, path, {
    integer: true,
    min: opts.min ?? Number.MIN_SAFE_INTEGER,
    max: opts.max ?? Number.MAX_SAFE_INTEGER,
  });
}

/**
 * The object without its keys whose value is undefined, so canonical objects hold only fields
 * that were set: a copy when there are any (deleting them in place would turn the object into a
 * slow dictionary-mode one, which every later stage then reads), else the object itself.
 */
export function compact<T extends object>(obj: T): T {
  const keys = Object.keys(obj) as Array<keyof T>;
  let set = 0;
  for (const k of keys) if (obj[k] !== undefined) set++;
  if (set === keys.length) return obj;
  const out = {} as T;
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

/** Attacker-chosen keys end up in `param` and logs: show at most 64 characters of them. */
export function displayKey(key: string): string {
  return key.length > 64 ? `${key.slice(0, 64)}…` : key;
}

function closest(key: string, allowed: ReadonlySet<string>): string | undefined {
  if (key.length > 64) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const d = editDistance(key.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance with adjacent transpositions (`detial` → `detail` is 1). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const prev = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}
