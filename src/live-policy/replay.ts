/**
 * Replays recorded requests through a policy's decision logic: the real payload caps,
 * authorize, limit, budget and route stages and the real price table, built from the policy's
 * config exactly as createGateway builds them, with fresh in-memory counters driven by a
 * virtual clock set to each record's time. No request text is needed: each record's decision
 * inputs (src/policy/decision-inputs.ts) are turned back into a body of the same shape (same
 * message, tool and image counts, the same prompt characters and token estimate, the same
 * completion cap), which is all those stages read.
 *
 * A replayed request holds what it holds (concurrency slots, token and budget reservations)
 * from its recorded start until its recorded end, and is settled with its recorded usage,
 * so overlapping requests meet the same concurrency and the same counters they met live.
 *
 * Not replayed: identify (keys, tokens and certificates are checked live; the caller is the
 * recorded one, with the key's current model scope from the store, a JWT caller's issuer's
 * default models, a certificate's mapped models), guardrails (they read text, which is not
 * kept) and threat detection (it reacts to live history). The upstream is not called.
 */
import type { GatewayConfig } from '../config/types.ts';
import { type Caller, type CanonicalRequest, newOutcome, type RequestContext } from '../core/context.ts';
import { createPipeline } from '../core/pipeline.ts';
import type { Stage, StageName } from '../core/stage.ts';
import { meterUsage } from '../cost/meter-usage.ts';
import { createPriceTable, type ModelPrice } from '../cost/price-table.ts';
import type { ErrorCode } from '../errors/codes.ts';
import { type GatewayError, isGatewayError } from '../errors/gateway-error.ts';
import { createMemoryBudgetBackend } from '../limits/budgets/memory-budget-backend.ts';
import { createMemoryBackend } from '../limits/memory/memory-backend.ts';
import { silentLogger } from '../observability/logger.ts';
import type { DecisionInputs } from '../policy/decision-inputs.ts';
import type { ChatChunk, Usage } from '../providers/canonical.ts';
import type { TargetConfig } from '../providers/config-types.ts';
import { adapterFor } from '../providers/registry.ts';
import { createAuthorizeStage } from '../stages/authorize/index.ts';
import { createBudgetStage } from '../stages/budget/index.ts';
import { createLimitStage } from '../stages/limit/index.ts';
import { createRouteStage } from '../stages/route/index.ts';
import { checkChatPayload, checkEmbeddingsPayload } from '../stages/validate/payload-caps.ts';
import type { ApiKeyRecord, RequestRecord } from '../store/store.ts';
import { syntheticRequest } from './synthetic-request.ts';

export type Verdict = 'allowed' | 'refused' | 'throttled';

/** One stage's part in a decision, for `policy explain`. */
export interface TraceStep {
  readonly stage: StageName;
  readonly result: 'passed' | 'refused';
  /** The rule, limit or cap that refused (refused steps). */
  readonly rule?: string;
  readonly code?: ErrorCode;
  readonly message?: string;
}

export interface ReplayedDecision {
  readonly recordId: string;
  /** The public model asked for. */
  readonly model: string | null;
  readonly verdict: Verdict;
  readonly code: ErrorCode | null;
  readonly stage: StageName | null;
  /** The rule that refused: a limit's policy name, a budget's name, a payload cap, `route:<model>`. */
  readonly rule: string | null;
  /** `provider/model` that would serve (allowed requests). */
  readonly target: string | null;
  /** Recorded usage priced under this policy (null: unpriced or no usage). */
  readonly costMicros: number | null;
  /** The recorded request reached no provider, so its usage is the prompt estimate (completion unknown). */
  readonly usageAssumed: boolean;
  readonly trace: readonly TraceStep[];
}

export interface CallerDirectory {
  /** The key's current record (for its model scope); undefined when it no longer exists. */
  apiKey(id: string): Promise<ApiKeyRecord | undefined>;
}

/** Why a record cannot be replayed; such records are counted, never guessed at. */
export type NotReplayable = 'no_inputs' | 'no_caller' | 'unknown_key' | 'unknown_issuer' | 'unknown_certificate';

export interface ReplayResult {
  readonly decisions: ReadonlyMap<string, ReplayedDecision>;
  readonly skipped: ReadonlyMap<string, NotReplayable>;
}

/** A replay run: the policy's stages with fresh counters, fed records oldest first. */
export interface Replayer {
  /** Decides one record; its holds are released when the clock passes its recorded end. */
  replay(record: RequestRecord): Promise<ReplayedDecision | NotReplayable>;
  /** Ends every request still held (call once, after the last record). */
  drain(): Promise<void>;
}

interface Pending {
  readonly endMs: number;
  readonly release: () => void;
  readonly done: Promise<void>;
}

export interface ReplayOptions {
  /** Keep every stage's step in each decision's trace (explain); otherwise only the refusing step. Default true. */
  readonly fullTrace?: boolean;
}

export function createReplayer(config: GatewayConfig, callers: CallerDirectory, options: ReplayOptions = {}): Replayer {
  const fullTrace = options.fullTrace ?? true;
  let clock = 0;
  const now = () => clock;
  const prices = createPriceTable(config.pricing);
  const priceFor = (t: { provider: string; model: string }): ModelPrice | undefined => {
    const provider = config.providers.get(t.provider);
    return provider === undefined ? undefined : prices.lookup(t.provider, provider.kind, t.model);
  };
  const stages: Stage[] = [
    payloadStage(config),
    createAuthorizeStage(),
    ...(config.limits.rules.length === 0
      ? []
      : [
          createLimitStage({
            config: config.limits,
            backend: createMemoryBackend({ now, sweepIntervalMs: 0 }),
            models: config.models,
          }),
        ]),
    ...(config.budgets.rules.length === 0
      ? []
      : [
          createBudgetStage({
            config: config.budgets,
            backend: createMemoryBudgetBackend({ now }),
            models: config.models,
            priceFor,
            providerKind: (id) => config.providers.get(id)?.kind,
            events: { emit() {} },
            now,
          }),
        ]),
    createRouteStage({ config, adapterFor }),
  ];
  const traced = stages.map((s) => tracing(s));
  const pipeline = createPipeline(traced.map((t) => t.stage));
  const traces = new WeakMap<RequestContext, TraceStep[]>();
  for (const t of traced)
    t.onStep((ctx, step) => {
      if (fullTrace || step.result === 'refused') traces.get(ctx)?.push(step);
    });
  /** Requests still running, ordered by their recorded end. */
  const pending: Pending[] = [];

  function hold(p: Pending): void {
    let lo = 0;
    let hi = pending.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pending[mid]!.endMs <= p.endMs) lo = mid + 1;
      else hi = mid;
    }
    pending.splice(lo, 0, p);
  }

  async function advanceTo(ms: number): Promise<void> {
    while (pending.length > 0 && pending[0]!.endMs <= ms) {
      const p = pending.shift()!;
      clock = Math.max(clock, p.endMs);
      p.release();
      await p.done;
    }
    clock = Math.max(clock, ms);
  }

  return {
    async replay(record) {
      const inputs = record.decisionInputs;
      if (!inputs || record.operation === 'models' || record.model === null) return 'no_inputs';
      const caller = await callerOf(record, inputs, config, callers);
      if (typeof caller === 'string') return caller;
      const startMs = Date.parse(record.time);
      await advanceTo(startMs);
      const request = syntheticRequest(record, inputs);
      const ctx = replayContext(record, caller, request);
      const trace: TraceStep[] = [];
      traces.set(ctx, trace);
      const usage = recordedUsage(record, inputs);
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let error: unknown;
      try {
        await pipeline.handle(ctx, async (c) => {
          const target = servingTarget(c, record);
          c.outcome.target = target;
          c.outcome.attempts = 1;
          c.outcome.status = 200;
          c.response = { kind: 'chat-stream', stream: heldStream(gate, usage.usage, record) };
        });
      } catch (err) {
        error = err;
      }
      const response = ctx.response;
      if (error === undefined && response?.kind === 'chat-stream') {
        // The request runs until its recorded end; draining the stream runs the stages' settle code.
        const done = drainStream(response.stream)
          .catch(() => {})
          .then(() => pipeline.finish(ctx));
        hold({ endMs: startMs + Math.max(0, record.latencyMs), release, done });
      } else {
        if (isGatewayError(error)) ctx.outcome.errorCode = error.code;
        await pipeline.finish(ctx);
      }
      const target = ctx.outcome.target;
      const refusal = isGatewayError(error) ? error : undefined;
      if (error !== undefined && refusal === undefined) throw error;
      const price = error === undefined && target ? priceFor(target) : undefined;
      const metered =
        error === undefined && usage.usage !== undefined
          ? meterUsage({ request: ctx.request, reported: usage.usage, completionChars: undefined, price })
          : undefined;
      return {
        recordId: record.id,
        model: record.model,
        verdict: refusal === undefined ? 'allowed' : verdictOf(refusal.code),
        code: refusal?.code ?? null,
        stage: trace.find((s) => s.result === 'refused')?.stage ?? null,
        rule: refusal === undefined ? null : ruleOf(refusal, ctx),
        target: error === undefined && target ? `${target.provider}/${target.model}` : null,
        costMicros: metered?.costMicros ?? null,
        usageAssumed: usage.assumed,
        trace,
      };
    },
    async drain() {
      await advanceTo(Number.POSITIVE_INFINITY);
    },
  };
}

/** Records replayed between two turns of the event loop (about 20 ms of work). */
const YIELD_EVERY = 200;

/** Replays records (any order; sorted oldest first here) and collects each decision. */
export async function replayRecords(
  config: GatewayConfig,
  records: readonly RequestRecord[],
  callers: CallerDirectory,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const replayer = createReplayer(config, callers, options);
  const ordered = [...records].sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || a.id.localeCompare(b.id));
  const decisions = new Map<string, ReplayedDecision>();
  const skipped = new Map<string, NotReplayable>();
  let sinceYield = 0;
  for (const r of ordered) {
    // A replay is CPU work on the gateway's own event loop (the admin API runs it in the serving
    // process): let I/O through every few hundred records so traffic is not stalled behind it.
    if (++sinceYield === YIELD_EVERY) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const d = await replayer.replay(r);
    if (typeof d === 'string') skipped.set(r.id, d);
    else decisions.set(r.id, d);
  }
  await replayer.drain();
  return { decisions, skipped };
}

export function verdictOf(code: string): Verdict {
  return code.startsWith('limit.') ? 'throttled' : 'refused';
}

function ruleOf(err: GatewayError, ctx: RequestContext): string {
  const p = err.params;
  if (typeof p.policy === 'string') return p.policy;
  if (typeof p.budget === 'string') return `budget:${p.budget}`;
  if (err.code === 'request.payload_limit') return `payload:${String(p.what ?? 'size')}`;
  if (err.code === 'request.output_limit') return 'payload:max_output_tokens';
  const model = ctx.request?.operation === 'models' ? undefined : ctx.request?.body.model;
  return `route:${model ?? '?'}`;
}

/** The payload caps as the validate stage applies them (the body itself was checked when it arrived). */
function payloadStage(config: GatewayConfig): Stage {
  return {
    name: 'validate',
    onRequest(ctx) {
      const req = ctx.request;
      if (req?.operation === 'chat') checkChatPayload(req.body, config.payload);
      else if (req?.operation === 'embeddings') checkEmbeddingsPayload(req.body, config.payload);
    },
  };
}

type StepListener = (ctx: RequestContext, step: TraceStep) => void;

/** Wraps a stage so that each onRequest's pass or refusal becomes a trace step. */
function tracing(stage: Stage): { stage: Stage; onStep(l: StepListener): void } {
  let listener: StepListener = () => {};
  const onRequest = stage.onRequest;
  const wrapped: Stage = {
    ...stage,
    ...(onRequest === undefined
      ? {}
      : {
          async onRequest(ctx: RequestContext) {
            try {
              await onRequest.call(stage, ctx);
            } catch (err) {
              if (isGatewayError(err))
                listener(ctx, {
                  stage: stage.name,
                  result: 'refused',
                  rule: ruleOf(err, ctx),
                  code: err.code,
                  message: err.message,
                });
              throw err;
            }
            listener(ctx, { stage: stage.name, result: 'passed' });
          },
        }),
  };
  return {
    stage: wrapped,
    onStep(l) {
      listener = l;
    },
  };
}

async function callerOf(
  record: RequestRecord,
  inputs: DecisionInputs,
  config: GatewayConfig,
  callers: CallerDirectory,
): Promise<Caller | NotReplayable> {
  if (record.keyId === null) return 'no_caller';
  const base = {
    keyId: record.keyId,
    tenantId: record.tenantId,
    label: record.keyId,
    ...(record.teamId === null ? {} : { teamId: record.teamId }),
    ...(record.userId === null ? {} : { subject: record.userId }),
  };
  if (inputs.callerKind === 'api_key') {
    const key = await callers.apiKey(record.keyId);
    if (key === undefined) return 'unknown_key';
    return { ...base, kind: 'api_key', keyPrefix: key.prefix, allowedModels: key.allowedModels };
  }
  if (inputs.callerKind === 'jwt') {
    const issuer = config.auth.jwt.issuers.find((i) => i.issuer === inputs.issuer);
    if (issuer === undefined) return 'unknown_issuer';
    return { ...base, kind: 'jwt', keyPrefix: 'jwt', issuer: issuer.issuer, allowedModels: issuer.defaultModels };
  }
  const entry = (config.auth.clientCertificates ?? []).find(
    (e) => e.mode === 'identity' && e.subject !== undefined && e.subject === record.userId,
  );
  if (entry === undefined) return 'unknown_certificate';
  return { ...base, kind: 'client_cert', keyPrefix: 'cert', allowedModels: entry.allowedModels };
}

/** One silent logger for every replayed context (a logger per request would cost more than the replay). */
const SILENT = silentLogger();
const NEVER_ABORTED = new AbortController().signal;

function replayContext(record: RequestRecord, caller: Caller, request: CanonicalRequest): RequestContext {
  return {
    id: `replay-${record.id}`,
    startedAt: 0,
    receivedAt: new Date(record.time),
    surface: record.surface,
    operation: record.operation,
    http: { method: 'POST', path: '/replay', headers: {}, remoteAddress: '' },
    signal: NEVER_ABORTED,
    log: SILENT,
    readBody: () => Promise.reject(new Error('replay: no body')),
    caller,
    request,
    surfaceRequest: undefined,
    route: undefined,
    response: undefined,
    outcome: newOutcome(),
  };
}

/**
 * The target that serves in the replay: the recorded one when this policy's route still has it
 * (so an unchanged route is not called rerouted), else the route's first target at its highest
 * priority (the one the upstream tries first).
 */
function servingTarget(ctx: RequestContext, record: RequestRecord): TargetConfig | undefined {
  const targets = ctx.route?.config.targets ?? [];
  const same = targets.find((t) => t.provider === record.provider && t.model === record.targetModel);
  if (same) return same;
  let first: TargetConfig | undefined;
  for (const t of targets) if (first === undefined || t.priority < first.priority) first = t;
  return first;
}

/** Recorded usage; a request that reached no provider is assumed to use its prompt estimate only. */
function recordedUsage(record: RequestRecord, inputs: DecisionInputs): { usage: Usage | undefined; assumed: boolean } {
  if (record.promptTokens !== null && record.completionTokens !== null) {
    return {
      assumed: false,
      usage: {
        prompt_tokens: record.promptTokens,
        completion_tokens: record.completionTokens,
        total_tokens: record.totalTokens ?? record.promptTokens + record.completionTokens,
        ...(record.cachedTokens || record.cacheWriteTokens
          ? {
              prompt_tokens_details: {
                cached_tokens: record.cachedTokens ?? 0,
                ...(record.cacheWriteTokens ? { cache_write_tokens: record.cacheWriteTokens } : {}),
              },
            }
          : {}),
      },
    };
  }
  return {
    assumed: true,
    usage: { prompt_tokens: inputs.promptTokens, completion_tokens: 0, total_tokens: inputs.promptTokens },
  };
}

/** A stream that ends (with the recorded usage) only when the replay's clock reaches the request's end. */
async function* heldStream(
  gate: Promise<void>,
  usage: Usage | undefined,
  record: RequestRecord,
): AsyncGenerator<ChatChunk> {
  await gate;
  yield {
    id: `replay-${record.id}`,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.parse(record.time) / 1000),
    model: record.targetModel ?? record.model ?? '',
    choices: [],
    usage: usage ?? null,
  };
}

async function drainStream(stream: AsyncIterable<ChatChunk>): Promise<void> {
  for await (const _ of stream) {
    /* the stages' wrappers settle as the stream passes */
  }
}
