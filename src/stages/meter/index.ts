/**
 * meter: writes one request record (metadata only: never prompts or completions) when the
 * request has finished, streamed or not, succeeded or failed, with its tokens and cost.
 *
 * Tokens are the provider's reported usage exactly; when it reported none the gateway counts
 * them (src/cost/meter-usage.ts) and the record says `usageEstimated`. For that the meter
 * tallies the text of a stream as it is relayed (its wrapper is the outermost, so it sees what
 * the client was sent). When the budget stage settled the request it already metered it, and
 * the record shows exactly what the budget was charged.
 */

import type { RequestContext } from '../../core/context.ts';
import { recordableName } from '../../core/secret-shapes.ts';
import type { Stage } from '../../core/stage.ts';
import {
  type MeteredUsage,
  meterUsage,
  newStreamTally,
  responseChars,
  type StreamTally,
  tallyChunk,
} from '../../cost/meter-usage.ts';
import type { ModelPrice } from '../../cost/price-table.ts';
import type { ChatChunk } from '../../providers/canonical.ts';
import type { TargetConfig } from '../../providers/config-types.ts';
import type { RequestRecord, Store } from '../../store/store.ts';

export interface MeterOptions {
  readonly store: Store;
  /** The price of a target (provider + upstream model); undefined: unpriced (cost recorded as null). */
  readonly priceFor?: (target: TargetConfig) => ModelPrice | undefined;
  /** Told each request's metered usage as it is recorded (the cost metric); must not throw. */
  readonly onMetered?: (ctx: RequestContext, metered: MeteredUsage) => void;
}

export function createMeterStage(opts: MeterOptions): Stage {
  const priceFor = opts.priceFor ?? (() => undefined);
  const tallies = new WeakMap<RequestContext, StreamTally>();
  return {
    name: 'meter',
    onResponse(ctx) {
      const response = ctx.response;
      if (response?.kind !== 'chat-stream') return;
      const tally = newStreamTally();
      tallies.set(ctx, tally);
      response.stream = tallyStream(response.stream, tally);
    },
    async onFinish(ctx) {
      if (!ctx.caller) return; // anonymous refusals are security-log material, not usage
      const metered = ctx.outcome.metered ?? meter(ctx, tallies.get(ctx), priceFor);
      opts.onMetered?.(ctx, metered);
      ctx.outcome.metered = metered; // the access log line reports it
      await opts.store.insertRequestRecord(toRecord(ctx, metered));
    },
  };
}

function meter(
  ctx: RequestContext,
  tally: StreamTally | undefined,
  priceFor: (t: TargetConfig) => ModelPrice | undefined,
): MeteredUsage {
  const response = ctx.response;
  const target = ctx.outcome.target;
  // Text relayed: a stream's tally, a whole response's content; no response: no work to estimate.
  const completionChars =
    tally !== undefined
      ? tally.chunks > 0
        ? tally.completionChars
        : undefined
      : response?.kind === 'chat'
        ? responseChars(response.body)
        : response?.kind === 'embeddings'
          ? 0
          : undefined;
  return meterUsage({
    request: ctx.request,
    reported: ctx.outcome.usage ?? tally?.usage,
    completionChars,
    price: target ? priceFor(target) : undefined,
  });
}

async function* tallyStream(stream: AsyncIterable<ChatChunk>, tally: StreamTally): AsyncGenerator<ChatChunk> {
  for await (const chunk of stream) {
    tallyChunk(tally, chunk);
    yield chunk;
  }
}

export function toRecord(ctx: RequestContext, metered?: MeteredUsage): RequestRecord {
  const o = ctx.outcome;
  const usage = metered ? metered.usage : o.usage;
  const req = ctx.request;
  const caller = ctx.caller;
  return {
    id: ctx.id,
    time: ctx.receivedAt.toISOString(),
    tenantId: caller?.tenantId ?? 'unknown',
    keyId: caller?.keyId ?? null,
    surface: ctx.surface,
    operation: ctx.operation,
    model: ctx.route?.publicModel ?? (req && req.operation !== 'models' ? recordableName(req.body.model, 256) : null),
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
    teamId: caller?.teamId ?? null,
    userId: caller?.subject?.slice(0, 256) ?? null,
    cachedTokens: metered ? metered.cachedTokens : usage ? (usage.prompt_tokens_details?.cached_tokens ?? 0) : null,
    cacheWriteTokens: metered
      ? metered.cacheWriteTokens
      : usage
        ? (usage.prompt_tokens_details?.cache_write_tokens ?? 0)
        : null,
    costMicros: metered ? metered.costMicros : null,
    priceVersion: metered ? metered.priceVersion : null,
    usageEstimated: metered?.estimated ?? false,
    guardDetectors: o.guard === undefined || o.guard.length === 0 ? null : [...o.guard].sort().join(','),
    decisionInputs: ctx.decisionInputs ?? null,
    ...(ctx.promptApi?.resolved === undefined ? {} : { api: ctx.promptApi.resolved.api.name }),
    policyVersion: ctx.policyVersion ?? null,
  };
}
