/**
 * `policy dry-run`: what a candidate policy would have done to the traffic of a window. The
 * window's most recent request records (a bounded sample, stated in the report) are replayed
 * twice through src/live-policy/replay.ts, once under the active policy and once under the
 * candidate, each with fresh counters, and the two sets of decisions are compared request by
 * request. Comparing two replays (rather than the candidate with what was recorded) keeps the
 * difference down to the policy: what the replay cannot see (identify, guardrails, threat
 * detection, the upstream's own failures) is the same on both sides. How far the active replay
 * agrees with the recorded decisions is reported as its fidelity.
 */
import type { GatewayConfig } from '../config/types.ts';
import type { ErrorCode } from '../errors/codes.ts';
import type { RequestRecord, Store } from '../store/store.ts';
import { type NotReplayable, type ReplayedDecision, replayRecords, type Verdict, verdictOf } from './replay.ts';

export const DEFAULT_WINDOW_MS = 24 * 3_600_000;
export const DEFAULT_MAX_RECORDS = 50_000;
/** The most a caller may ask to replay in one run. */
export const MAX_RECORDS = 200_000;
const PAGE = 1_000;
const TOP = 10;

export interface DryRunOptions {
  readonly store: Store;
  readonly active: GatewayConfig;
  readonly candidate: GatewayConfig;
  /** Inclusive, ISO-8601. */
  readonly since: string;
  /** Exclusive, ISO-8601. */
  readonly until: string;
  /** Most records replayed (the most recent of the window). Default 50,000. */
  readonly maxRecords?: number;
  /** Only this tenant's records (tenant admins see their own traffic only). */
  readonly tenantId?: string;
}

export interface VerdictCounts {
  readonly allowed: number;
  readonly refused: number;
  readonly throttled: number;
  /** Refusals and throttles by error code. */
  readonly byCode: Readonly<Record<string, number>>;
}

/** One rule's effect: requests the candidate decides differently because of it. */
export interface RuleEffect {
  /** `key-gpt-rpm` (a limit's policy name), `budget:NAME`, `payload:WHAT`, `route:MODEL`, `price:PROVIDER/MODEL`. */
  readonly rule: string;
  readonly stage: string;
  /** Requests the active policy let through that this rule would refuse (402/403/404/400…). */
  readonly refused: number;
  /** …that this rule would throttle (429). */
  readonly throttled: number;
  /** Requests the active policy refused or throttled by this rule that the candidate lets through. */
  readonly released: number;
  /** Allowed by both, served by another target (route rules). */
  readonly rerouted: number;
  /** Allowed by both, priced differently (price rules); the difference in micro-dollars. */
  readonly repriced: number;
  readonly costDeltaMicros: number;
}

export interface Affected {
  readonly id: string;
  readonly changed: number;
}

export interface DryRunReport {
  readonly window: { readonly since: string; readonly until: string };
  readonly sample: {
    readonly maxRecords: number;
    /** Records read (the window's most recent, up to maxRecords). */
    readonly records: number;
    /** True when the window held more than maxRecords: older ones were left out. */
    readonly truncated: boolean;
    readonly oldest: string | null;
    readonly newest: string | null;
    readonly replayed: number;
    readonly skipped: Readonly<Partial<Record<NotReplayable, number>>>;
    /**
     * Requests the candidate lets through that reached no provider when recorded: their usage
     * is unknown and is taken as the prompt estimate with no completion.
     */
    readonly assumedUsage: number;
  };
  readonly active: VerdictCounts;
  readonly candidate: VerdictCounts;
  /** Replayed requests whose decision, serving target or price differs. */
  readonly changed: number;
  /** Replayed requests whose active-policy replay matches the recorded verdict. */
  readonly fidelity: { readonly matching: number; readonly compared: number };
  readonly rules: readonly RuleEffect[];
  readonly keys: readonly Affected[];
  readonly teams: readonly Affected[];
}

export async function dryRun(opts: DryRunOptions): Promise<DryRunReport> {
  const maxRecords = opts.maxRecords ?? DEFAULT_MAX_RECORDS;
  if (!Number.isSafeInteger(maxRecords) || maxRecords < 1 || maxRecords > MAX_RECORDS)
    throw new RangeError(`maxRecords must be an integer from 1 to ${MAX_RECORDS}`);
  const { records, truncated } = await windowRecords(opts, maxRecords);
  const keyCache = new Map<string, Promise<Awaited<ReturnType<Store['getApiKey']>>>>();
  const callers = {
    apiKey(id: string) {
      let p = keyCache.get(id);
      if (p === undefined) {
        p = opts.store.getApiKey(id);
        keyCache.set(id, p);
      }
      return p;
    },
  };
  const before = await replayRecords(opts.active, records, callers, { fullTrace: false });
  const after = await replayRecords(opts.candidate, records, callers, { fullTrace: false });

  const rules = new Map<string, MutableEffect>();
  const effect = (rule: string, stage: string): MutableEffect => {
    let e = rules.get(rule);
    if (e === undefined) {
      e = { rule, stage, refused: 0, throttled: 0, released: 0, rerouted: 0, repriced: 0, costDeltaMicros: 0 };
      rules.set(rule, e);
    }
    return e;
  };
  const keys = new Map<string, number>();
  const teams = new Map<string, number>();
  const skipped: Partial<Record<NotReplayable, number>> = {};
  const activeCounts = newCounts();
  const candidateCounts = newCounts();
  let changed = 0;
  let matching = 0;
  let assumedUsage = 0;
  let compared = 0;
  for (const r of records) {
    const a = before.decisions.get(r.id);
    const c = after.decisions.get(r.id);
    if (a === undefined || c === undefined) {
      const why = before.skipped.get(r.id) ?? after.skipped.get(r.id) ?? 'no_inputs';
      skipped[why] = (skipped[why] ?? 0) + 1;
      continue;
    }
    count(activeCounts, a);
    count(candidateCounts, c);
    if (c.verdict === 'allowed' && c.usageAssumed) assumedUsage++;
    const recorded = recordedVerdict(r);
    if (recorded !== undefined) {
      compared++;
      if (recorded === a.verdict) matching++;
    }
    const differs = compare(a, c, effect);
    if (!differs) continue;
    changed++;
    if (r.keyId !== null) keys.set(r.keyId, (keys.get(r.keyId) ?? 0) + 1);
    if (r.teamId !== null) teams.set(r.teamId, (teams.get(r.teamId) ?? 0) + 1);
  }
  return {
    window: { since: opts.since, until: opts.until },
    sample: {
      maxRecords,
      records: records.length,
      truncated,
      oldest: records.at(-1)?.time ?? null,
      newest: records[0]?.time ?? null,
      replayed: before.decisions.size,
      assumedUsage,
      skipped,
    },
    active: activeCounts,
    candidate: candidateCounts,
    changed,
    fidelity: { matching, compared },
    rules: [...rules.values()].sort((x, y) => weight(y) - weight(x) || x.rule.localeCompare(y.rule)),
    keys: top(keys),
    teams: top(teams),
  };
}

type MutableEffect = { -readonly [K in keyof RuleEffect]: RuleEffect[K] };

/** Attributes one request's difference to the rules behind it; true when anything differs. */
function compare(
  a: ReplayedDecision,
  c: ReplayedDecision,
  effect: (rule: string, stage: string) => MutableEffect,
): boolean {
  if (a.verdict === 'allowed' && c.verdict === 'allowed') {
    let differs = false;
    if (a.target !== c.target) {
      effect(`route:${modelOf(a, c)}`, 'route').rerouted++;
      differs = true;
    } else if (a.costMicros !== c.costMicros) {
      const e = effect(`price:${c.target ?? '?'}`, 'price');
      e.repriced++;
      e.costDeltaMicros += (c.costMicros ?? 0) - (a.costMicros ?? 0);
      differs = true;
    }
    return differs;
  }
  if (a.verdict === c.verdict && a.rule === c.rule && a.code === c.code) return false;
  if (c.verdict !== 'allowed' && c.rule !== null) {
    const e = effect(c.rule, c.stage ?? '?');
    if (c.verdict === 'throttled') e.throttled++;
    else e.refused++;
  }
  if (a.verdict !== 'allowed' && a.rule !== null) effect(a.rule, a.stage ?? '?').released++;
  return true;
}

function modelOf(a: ReplayedDecision, c: ReplayedDecision): string {
  return c.model ?? a.model ?? '?';
}

function weight(e: RuleEffect): number {
  return e.refused + e.throttled + e.released + e.rerouted + e.repriced;
}

function newCounts(): { allowed: number; refused: number; throttled: number; byCode: Record<string, number> } {
  return { allowed: 0, refused: 0, throttled: 0, byCode: {} };
}

function count(
  into: { allowed: number; refused: number; throttled: number; byCode: Record<string, number> },
  d: ReplayedDecision,
): void {
  into[d.verdict]++;
  if (d.code !== null) into.byCode[d.code] = (into.byCode[d.code] ?? 0) + 1;
}

/**
 * The recorded verdict, when the replay makes that decision too: refused or throttled by a
 * replayed stage, or allowed (served, or failed by the provider after the policy let it
 * through). Undefined for what a replay cannot see (identify, guardrails, threat detection, a
 * backend that was down).
 */
function recordedVerdict(r: RequestRecord): Verdict | undefined {
  if (r.errorCode === null) return r.status < 400 || r.status === 499 ? 'allowed' : undefined;
  if (REPLAYED_CODES.has(r.errorCode as ErrorCode)) return verdictOf(r.errorCode);
  return r.errorCode.startsWith('upstream.') ? 'allowed' : undefined;
}

const REPLAYED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'limit.requests',
  'limit.tokens',
  'limit.concurrency',
  'budget.exceeded',
  'budget.reservation_too_large',
  'budget.unpriced_model',
  'model.not_found',
  'model.operation_unsupported',
  'request.payload_limit',
  'request.output_limit',
  'request.unsupported_parameter',
]);

function top(m: Map<string, number>): Affected[] {
  return [...m]
    .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))
    .slice(0, TOP)
    .map(([id, changed]) => ({ id, changed }));
}

/** The window's most recent records, newest first, paged through the store's list (1,000 a page). */
async function windowRecords(
  opts: DryRunOptions,
  maxRecords: number,
): Promise<{ records: RequestRecord[]; truncated: boolean }> {
  const out: RequestRecord[] = [];
  const seen = new Set<string>();
  let until = opts.until;
  for (;;) {
    const want = Math.min(PAGE, maxRecords - out.length + 1);
    const page = await opts.store.listRequestRecords({
      since: opts.since,
      until,
      limit: want,
      ...(opts.tenantId === undefined ? {} : { tenantId: opts.tenantId }),
    });
    let added = 0;
    for (const r of page) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      out.push(r);
      added++;
    }
    if (out.length > maxRecords) return { records: out.slice(0, maxRecords), truncated: true };
    if (page.length < want || added === 0) return { records: out, truncated: false };
    // The next page ends just after the oldest time seen: records at that same millisecond are
    // read again and skipped by id, so none is lost at the boundary.
    until = new Date(Date.parse(page.at(-1)!.time) + 1).toISOString();
    // SQLite reads synchronously (about 50 ms per 1,000 records): let traffic through between pages.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
