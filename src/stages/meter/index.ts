/**
 * meter: writes one request record (metadata only: never prompts or completions) when the
 * request has finished, streamed or not, succeeded or failed.
 */
import type { Stage } from '../../core/stage.ts';
import type { RequestContext } from '../../core/context.ts';
import type { RequestRecord, Store } from '../../store/store.ts';

export interface MeterOptions {
  readonly store: Store;
}

export function createMeterStage(opts: MeterOptions): Stage {
  return {
    name: 'meter',
    async onFinish(ctx) {
      if (!ctx.caller) return; // anonymous refusals are security-log material, not usage
      await opts.store.insertRequestRecord(toRecord(ctx));
    },
  };
}

export function toRecord(ctx: RequestContext): RequestRecord {
  const o = ctx.outcome;
  const usage = o.usage;
  const req = ctx.request;
  return {
    id: ctx.id,
    time: ctx.receivedAt.toISOString(),
    tenantId: ctx.caller?.tenantId ?? 'unknown',
    keyId: ctx.caller?.keyId ?? null,
    surface: ctx.surface,
    operation: ctx.operation,
    model: ctx.route?.publicModel ?? (req && req.operation !== 'models' ? req.body.model.slice(0, 256) : null),
    provider: o.target?.provider ?? null,
    targetModel: o.target?.model ?? null,
    // A client that left mid-way is recorded with nginx's 499 so it is not mistaken for success.
    status: o.clientAborted ? 499 : o.status,
    errorCode: o.errorCode ?? null,
    stream: req?.operation === 'chat' && req.body.stream === true,
    latencyMs: Math.round((performance.now() - ctx.startedAt) * 1000) / 1000,
    attempts: o.attempts,
    promptTokens: usage?.prompt_tokens ?? null,
    completionTokens: usage?.completion_tokens ?? null,
    totalTokens: usage?.total_tokens ?? null,
  };
}
