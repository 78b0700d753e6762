/** Helpers the detectors share: option checks and overlap resolution. */
import { gatewayError } from '../errors/gateway-error.ts';

/** maxMatchLength is this many times the longest visible match, as an allowance for invisible
 *  characters interleaved in a match (the normalized view skips them; the original has them). */
export const INVISIBLE_ALLOWANCE = 2;

/** Checks a `types` option against the known types; throws a GatewayError naming the bad one. */
export function validateTypes(
  types: readonly string[] | undefined,
  known: readonly string[],
  path: string,
): readonly string[] {
  if (types === undefined) return known;
  if (!Array.isArray(types))
    throw gatewayError('guard.invalid_detector', { params: { path, detail: 'expected a list of types' } });
  if (types.length === 0)
    throw gatewayError('guard.invalid_detector', {
      params: { path, detail: 'the list is empty; leave it out to find every type' },
    });
  for (const [i, t] of types.entries()) {
    if (typeof t !== 'string' || !known.includes(t)) {
      throw gatewayError('guard.invalid_detector', {
        params: {
          path: `${path}[${i}]`,
          detail: `unknown type ${JSON.stringify(String(t)).slice(0, 40)}; known: ${known.join(', ')}`,
        },
      });
    }
  }
  return types;
}

/** Keeps the earliest-starting (then longest) of overlapping spans. Input order does not matter. */
export function overlapFree<T extends { readonly start: number; readonly end: number }>(spans: readonly T[]): T[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: T[] = [];
  let reach = -1;
  for (const s of sorted) {
    if (s.start < reach) continue;
    kept.push(s);
    reach = s.end;
  }
  return kept;
}

/**
 * The matches of a global pattern, like text.matchAll(re) without its per-call copy of the
 * pattern (which showed up in profiles of short texts scanned many times, as streams do).
 * Not re-entrant for one pattern: the loop body must not search with the same `re`.
 */
export function* allMatches(re: RegExp, text: string): Generator<RegExpExecArray> {
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const next = re.lastIndex;
    yield m;
    re.lastIndex = m[0].length === 0 ? next + 1 : next;
  }
}
