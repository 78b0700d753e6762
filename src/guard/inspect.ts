/**
 * Runs one direction's detectors over a set of text fields and turns what they found into a
 * decision: refuse (the first `block` detector that found something, in policy order), refuse
 * because a detector failed (fail closed unless its `on_error: allow`), or pass with the
 * `redact` findings replaced by placeholders. Text detectors run first; judges are only asked
 * when no text detector has already refused, since a judge costs a model call.
 */

import type { ErrorCode } from '../errors/codes.ts';
import { type GatewayError, gatewayError } from '../errors/gateway-error.ts';
import type { GuardAction, GuardDetectorKind, GuardDirection } from './config.ts';
import type { GuardFinding } from './detector.ts';
import { JudgeFailure, type JudgeInput } from './judge/index.ts';
import type { GuardEntry } from './policy.ts';
import { type Placeholders, redactText } from './redact.ts';
import { SCAN_MEMO_MIN_FIELDS, type ScanMemo } from './scan-memo.ts';
import type { TextField } from './text-fields.ts';

export interface LocatedFinding {
  /** The field's JSON path (or `stream.choices[0].content` on streams). */
  readonly path: string;
  readonly finding: GuardFinding;
}

/** What one detector did on one direction of one request. */
export interface EntryOutcome {
  readonly entry: GuardEntry;
  readonly direction: GuardDirection;
  readonly findings: readonly LocatedFinding[];
  /** Set when the detector failed or timed out. */
  readonly failure?: string;
}

export const BLOCK_CODES: Readonly<Record<GuardDetectorKind, ErrorCode>> = {
  pii: 'guard.pii',
  secrets: 'guard.secret',
  injection: 'guard.prompt_injection',
  deny_list: 'guard.deny_list',
  judge: 'guard.unsafe_content',
};

const MAX_TYPES_SHOWN = 5;

/** Where scanText may find and keep what its detectors found in texts read before. */
export interface ScanMemoUse {
  /** Belongs to `entries` (the same detectors in the same order). */
  readonly memo: ScanMemo;
  /** The caller's tenant: a text is remembered per tenant. */
  readonly tenant: string;
}

/** Runs the text detectors of `entries` on every field; never throws (a throwing detector is a
 *  failure). With `memo`, a long field read before (for the same tenant) is not read again, in
 *  a request of SCAN_MEMO_MIN_FIELDS fields or more. */
export function scanText(
  entries: readonly GuardEntry[],
  fields: readonly TextField[],
  direction: GuardDirection,
  memo?: ScanMemoUse,
): EntryOutcome[] {
  const detectors = entries.filter((e) => e.text !== undefined);
  const findings: LocatedFinding[][] = detectors.map(() => []);
  const failures: Array<string | undefined> = detectors.map(() => undefined);
  // A request of one text has no history in it: nothing is remembered for it (see SCAN_MEMO_MIN_FIELDS).
  const remember = memo !== undefined && fields.length >= SCAN_MEMO_MIN_FIELDS ? memo : undefined;
  // Field by field, every detector in turn: they share the field's normalized view (computed
  // once per text, src/guard/normalize.ts), where detector by detector would recompute it for
  // every field of a request with several.
  for (const field of fields) {
    if (field.text.length === 0) continue;
    const key = remember?.memo.keyOf(remember.tenant, field.text);
    const remembered = key === undefined ? undefined : remember!.memo.get(key);
    if (remembered !== undefined) {
      for (const [i, found] of remembered.entries())
        if (failures[i] === undefined) for (const finding of found) findings[i]!.push({ path: field.path, finding });
      continue;
    }
    // What each detector found in this field, kept when every one of them read it.
    const inField: GuardFinding[][] | undefined = key === undefined ? undefined : detectors.map(() => []);
    for (const [i, entry] of detectors.entries()) {
      if (failures[i] !== undefined) continue;
      try {
        for (const finding of entry.text!.scan(field.text)) {
          findings[i]!.push({ path: field.path, finding });
          if (inField !== undefined) inField[i]!.push(finding);
        }
      } catch (err) {
        // The contract says scan never throws; if one does, the text is unchecked: a failure.
        failures[i] = `detector threw: ${err instanceof Error ? err.name : 'error'}`;
      }
    }
    if (inField !== undefined && failures.every((f) => f === undefined)) remember!.memo.set(key!, inField);
  }
  return detectors.map((entry, i) =>
    failures[i] === undefined
      ? { entry, direction, findings: findings[i]! }
      : { entry, direction, findings: findings[i]!, failure: failures[i]! },
  );
}

/** Asks every judge of `entries`, in parallel. A client abort propagates; a judge failure is an outcome. */
export async function askJudges(
  entries: readonly GuardEntry[],
  input: JudgeInput,
  direction: GuardDirection,
  signal: AbortSignal,
): Promise<EntryOutcome[]> {
  const judges = entries.filter((e) => e.judge !== undefined);
  if (judges.length === 0) return [];
  const path = direction === 'input' ? 'request' : 'response';
  return Promise.all(
    judges.map(async (entry): Promise<EntryOutcome> => {
      try {
        const found = await entry.judge!.rate(input, signal);
        return { entry, direction, findings: found.map((finding) => ({ path, finding })) };
      } catch (err) {
        if (err instanceof JudgeFailure) return { entry, direction, findings: [], failure: err.reason };
        if (signal.aborted) throw err;
        return { entry, direction, findings: [], failure: 'error' };
      }
    }),
  );
}

/** The refusal these outcomes call for, or undefined when the request may pass. */
export function refusalFor(outcomes: readonly EntryOutcome[]): GatewayError | undefined {
  for (const o of outcomes) {
    if (o.failure !== undefined && o.entry.onError === 'block') {
      return gatewayError('guard.unavailable', {
        params: { detector: o.entry.id },
        internal: { detector: o.entry.id, direction: o.direction, failure: o.failure },
      });
    }
  }
  for (const o of outcomes) {
    if (o.entry.action !== 'block' || o.findings.length === 0) continue;
    return gatewayError(BLOCK_CODES[o.entry.kind], {
      params: {
        detector: o.entry.id,
        types: typesOf(o.findings),
        where: o.direction === 'input' ? 'request' : 'response',
      },
      internal: { detector: o.entry.id, direction: o.direction, findings: describeFindings(o.findings) },
    });
  }
  return undefined;
}

/** Replaces the `redact` findings of `outcomes` in their fields. */
export function applyRedactions(
  outcomes: readonly EntryOutcome[],
  fields: readonly TextField[],
  placeholders: Placeholders,
): number {
  const byPath = new Map<string, GuardFinding[]>();
  for (const o of outcomes) {
    if (o.entry.action !== 'redact') continue;
    for (const { path, finding } of o.findings) {
      const list = byPath.get(path);
      if (list === undefined) byPath.set(path, [finding]);
      else list.push(finding);
    }
  }
  let changed = 0;
  for (const field of fields) {
    const found = byPath.get(field.path);
    if (found === undefined) continue;
    field.set(redactText(field.text, found, placeholders));
    changed++;
  }
  return changed;
}

/** The action an outcome stands for in metrics and events (`error` for failures). */
export function outcomeAction(o: EntryOutcome): GuardAction | 'error' | undefined {
  if (o.failure !== undefined) return 'error';
  return o.findings.length > 0 ? o.entry.action : undefined;
}

/** `EMAIL, CARD`: the distinct types, never the text. */
export function typesOf(findings: readonly LocatedFinding[]): string {
  const types = [...new Set(findings.map((f) => f.finding.type))].sort();
  return types.length > MAX_TYPES_SHOWN ? `${types.slice(0, MAX_TYPES_SHOWN).join(', ')}, …` : types.join(', ');
}

/** `messages[1].content:EMAIL@12-28`: type and position only, for logs and events. */
export function describeFindings(findings: readonly LocatedFinding[], max = 10): string {
  const parts = findings.slice(0, max).map((f) => `${f.path}:${f.finding.type}@${f.finding.start}-${f.finding.end}`);
  if (findings.length > max) parts.push(`+${findings.length - max} more`);
  return parts.join(',');
}
