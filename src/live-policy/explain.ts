/**
 * `policy explain`: the decision trace of one request under a policy (the active one or a
 * candidate). The request body is read by the real validate stage (parsing, media type,
 * payload caps), then decided by the same stages a dry-run replays (src/live-policy/replay.ts):
 * authorize, limit, budget and route, with counters that start empty, so the trace shows
 * which stage passed or refused, by which rule, and every limit, budget and target that
 * applies to this caller and model.
 */
import type { GatewayConfig } from '../config/types.ts';
import { type Caller, newOutcome, type Operation, type RequestContext, type Surface } from '../core/context.ts';
import type { ErrorCode } from '../errors/codes.ts';
import { isGatewayError } from '../errors/gateway-error.ts';
import { applicableLimits } from '../limits/rules.ts';
import { silentLogger } from '../observability/logger.ts';
import { applicableBudgets } from '../stages/budget/rules.ts';
import { createValidateStage } from '../stages/validate/index.ts';
import type { ApiKeyRecord, RequestRecord } from '../store/store.ts';
import { createReplayer, type TraceStep, type Verdict, verdictOf } from './replay.ts';

export interface ExplainOptions {
  readonly config: GatewayConfig;
  /** Which policy `config` is, as shown in the output. */
  readonly policy: string;
  /** The caller: an API key's record (its tenant, team and model scope). */
  readonly key: ApiKeyRecord;
  /** The request body as the client would send it (JSON). */
  readonly body: Buffer;
  readonly surface: Surface;
  readonly operation: Exclude<Operation, 'models'>;
  /** When the request is decided (budget periods). Default now. */
  readonly at?: Date;
}

export interface Explanation {
  readonly policy: string;
  readonly key: string;
  readonly model: string | null;
  readonly verdict: Verdict;
  readonly code: ErrorCode | null;
  readonly stage: string | null;
  readonly rule: string | null;
  readonly message: string | null;
  readonly target: string | null;
  readonly steps: readonly TraceStep[];
  /** What applies to this caller and model under the policy. */
  readonly applies: {
    readonly limits: ReadonlyArray<{ readonly policy: string; readonly limit: string }>;
    readonly budgets: ReadonlyArray<{ readonly name: string; readonly amountMicros: number; readonly period: string }>;
    readonly targets: ReadonlyArray<{ readonly provider: string; readonly model: string; readonly priority: number }>;
  };
}

export async function explainRequest(opts: ExplainOptions): Promise<Explanation> {
  const { config, key } = opts;
  const at = opts.at ?? new Date();
  const caller: Caller = {
    kind: 'api_key',
    keyId: key.id,
    keyPrefix: key.prefix,
    tenantId: key.tenantId,
    label: key.label,
    allowedModels: key.allowedModels,
    ...(key.teamId === null ? {} : { teamId: key.teamId }),
  };
  const ctx = validateContext(opts, caller, at);
  const base = { policy: opts.policy, key: key.id } as const;
  try {
    await createValidateStage({ maxJsonDepth: config.server.maxJsonDepth, payload: config.payload }).onRequest!(ctx);
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    return {
      ...base,
      model: null,
      verdict: verdictOf(err.code),
      code: err.code,
      stage: 'validate',
      // Only the payload caps are policy; a body that does not parse breaks no rule.
      rule:
        err.code === 'request.output_limit'
          ? 'payload:max_output_tokens'
          : err.code === 'request.payload_limit'
            ? `payload:${String(err.params.what)}`
            : null,
      message: err.message,
      target: null,
      steps: [{ stage: 'validate', result: 'refused', code: err.code, message: err.message }],
      applies: { limits: [], budgets: [], targets: [] },
    };
  }
  const req = ctx.request!;
  const model = req.operation === 'models' ? null : req.body.model;
  const record: RequestRecord = {
    id: `explain-${at.getTime()}`,
    time: at.toISOString(),
    tenantId: key.tenantId,
    keyId: key.id,
    surface: opts.surface,
    operation: opts.operation,
    model,
    provider: null,
    targetModel: null,
    status: 200,
    errorCode: null,
    stream: req.operation === 'chat' && req.body.stream === true,
    latencyMs: 0,
    attempts: 0,
    promptTokens: null,
    completionTokens: null,
    totalTokens: null,
    teamId: key.teamId,
    userId: null,
    cachedTokens: null,
    cacheWriteTokens: null,
    costMicros: null,
    priceVersion: null,
    usageEstimated: false,
    decisionInputs: ctx.decisionInputs ?? null,
  };
  const replayer = createReplayer(config, { apiKey: async (id) => (id === key.id ? key : undefined) });
  const decision = await replayer.replay(record);
  await replayer.drain();
  if (typeof decision === 'string') throw new Error(`explain: the request could not be decided (${decision})`);
  const refused = decision.trace.find((s) => s.result === 'refused');
  return {
    ...base,
    model,
    verdict: decision.verdict,
    code: decision.code,
    stage: decision.stage,
    rule: decision.rule,
    message: refused?.message ?? null,
    target: decision.target,
    steps: decision.trace,
    applies: model === null ? { limits: [], budgets: [], targets: [] } : applies(config, caller, model, at),
  };
}

function applies(config: GatewayConfig, caller: Caller, model: string, at: Date): Explanation['applies'] {
  return {
    limits: applicableLimits(config.limits.rules, caller, model).map((l) => ({
      policy: l.policy,
      limit:
        l.kind === 'concurrency'
          ? `${l.max} at once`
          : `${l.limit} ${l.kind} per ${l.windowS === 1 ? 'second' : 'minute'}${l.kind === 'requests' ? ` (burst ${l.capacity})` : ''}`,
    })),
    budgets: applicableBudgets(config.budgets.rules, caller, model, at.getTime()).map((b) => ({
      name: b.rule.name,
      amountMicros: b.rule.amountMicros,
      period: b.period.id,
    })),
    targets: (config.models.get(model)?.targets ?? []).map((t) => ({
      provider: t.provider,
      model: t.model,
      priority: t.priority,
    })),
  };
}

function validateContext(opts: ExplainOptions, caller: Caller, at: Date): RequestContext {
  return {
    id: 'explain',
    startedAt: 0,
    receivedAt: at,
    surface: opts.surface,
    operation: opts.operation,
    http: {
      method: 'POST',
      path: '/explain',
      headers: { 'content-type': 'application/json' },
      remoteAddress: '127.0.0.1',
      clientIp: '127.0.0.1',
    },
    signal: new AbortController().signal,
    log: silentLogger(),
    readBody: async () => opts.body,
    caller,
    request: undefined,
    surfaceRequest: undefined,
    route: undefined,
    response: undefined,
    outcome: newOutcome(),
  };
}
