/**
 * What the input detectors found in texts they have already read, so that a text sent again is
 * not read again. A chat request carries the whole conversation: every turn resends the system
 * prompt and every earlier message, so without this a conversation of n turns has its first
 * message scanned n times, and an application's system prompt (often several KB) is scanned on
 * every request it makes.
 *
 * Detectors are pure: the same text always gives the same findings, so a remembered verdict is
 * the verdict. A memo belongs to one compiled policy's list of input detectors (a new policy
 * version brings new detectors and a new memo, so no verdict outlives the rules that made it).
 *
 * What is kept is not the text: the key is a SHA-256 digest of the caller's tenant and the
 * text, the value the findings (types and positions, never matched text). The tenant is part of
 * the key so that whether a text was scanned before (a few tens of µs faster) can never be
 * learnt across tenants. Only texts of at least MIN_CHARS are remembered (a short text costs
 * less to scan than to hash), and at most `maxEntries` of them, least recently used first out.
 *
 * A request of a single text (one prompt, no system prompt, no earlier turns) is read without
 * the memo: it resends nothing, and most such requests are one-off calls whose text never comes
 * back, so hashing and keeping it was pure cost (about a tenth of what the input guards cost
 * such a request in a gateway). If it is the first turn of a conversation, its text is read once
 * more in the second request, and remembered from then on.
 */
import { hash } from 'node:crypto';
import { asciiBytes } from './ascii.ts';
import type { GuardFinding } from './detector.ts';

/** Per detector of the list (in its order), what it found in the text. */
export type RememberedFindings = ReadonlyArray<readonly GuardFinding[]>;

export interface ScanMemo {
  /** The key of `text` for a caller of `tenant`, or undefined when the text is too short to remember. */
  keyOf(tenant: string, text: string): string | undefined;
  get(key: string): RememberedFindings | undefined;
  set(key: string, findings: ReadonlyArray<readonly GuardFinding[]>): void;
  readonly size: number;
}

/** Texts shorter than this are scanned every time: hashing one costs about as much. */
export const SCAN_MEMO_MIN_CHARS = 256;
/** Requests with fewer texts than this do not use the memo (see above). */
export const SCAN_MEMO_MIN_FIELDS = 2;
/** Texts remembered per policy's input detectors: about 150 bytes each. */
export const SCAN_MEMO_ENTRIES = 4096;

const NOTHING: readonly GuardFinding[] = Object.freeze([]);

export function createScanMemo(maxEntries: number = SCAN_MEMO_ENTRIES): ScanMemo {
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new TypeError('scan memo: maxEntries must be a positive integer');
  // A Map iterates in insertion order: re-inserting on a hit keeps the least recently used first.
  const entries = new Map<string, RememberedFindings>();
  return {
    keyOf(tenant, text) {
      if (text.length < SCAN_MEMO_MIN_CHARS) return undefined;
      // The text's digest, from the bytes the detectors will read it from when it is ASCII
      // (asciiBytes encodes it once for all of them), and the tenant before it, its length
      // first, so that no tenant and digest can run into another pair's.
      const bytes = asciiBytes(text);
      const digest = hash('sha256', bytes === undefined ? text : bytes.subarray(0, text.length), 'base64');
      return `${tenant.length}:${tenant}:${digest}`;
    },
    get(key) {
      const found = entries.get(key);
      if (found !== undefined) {
        entries.delete(key);
        entries.set(key, found);
      }
      return found;
    },
    set(key, findings) {
      entries.delete(key);
      entries.set(
        key,
        Object.freeze(
          findings.map((list) =>
            list.length === 0 ? NOTHING : Object.freeze(list.map((f) => Object.freeze({ ...f }))),
          ),
        ),
      );
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    get size() {
      return entries.size;
    },
  };
}
