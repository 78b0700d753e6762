/**
 * limit: rate limits, token limits and concurrency, per key, user, team, tenant, model, route
 * and globally (limits.rules). Every applicable limit must pass; the tightest decides.
 *
 * onRequest: one backend `admit`: concurrency slots (leases, renewed while the request runs),
 * then every request rate and the token estimate's reservation, all-or-nothing (a refused rate
 * gives the slots back). onResponse settles tokens with the real usage (for a stream, when it
 * ends, before the client sees its last event) and frees the slots in one backend `finish`;
 * onFinish does whatever is left (errors, refusals by later stages, clients that went away).
 * With Redis that is two round trips (two scripts) per request.
 *
 * Backend unreachable: 503 `limit.backend_unavailable` (fail closed), unless the backend was
 * opened with the local fallback.
 */
import type { RequestContext } from '../../core/context.ts';
import type { Stage } from '../../core/stage.ts';
import { type GatewayError, gatewayError } from '../../errors/gateway-error.ts';
import type { LimitsConfig } from '../../limits/config-types.ts';
import { estimateTokens } from '../../limits/estimate.ts';
import { type LimitBackend, LimitBackendError, type RateState, type SettleItem } from '../../limits/limit-backend.ts';
import { applicableLimits, type ConcurrencyLimit, type RateLimit } from '../../limits/rules.ts';
import type { ChatChunk, Usage } from '../../providers/canonical.ts';
import type { ModelRouteConfig } from '../../providers/config-types.ts';
import { rateLimitHeaders, tightest } from './headers.ts';

export interface LimitStageOptions {
  readonly config: LimitsConfig;
  readonly backend: LimitBackend;
  /** Routes, for each model's deadline (a reservation lives a little longer than its request). */
  readonly models: ReadonlyMap<string, ModelRouteConfig>;
}

/** What one request holds until it is finished. */
interface Held {
  readonly leaseId: string;
  readonly slotKeys: string[];
  renewTimer: NodeJS.Timeout | undefined;
  reservation: { readonly id: string; readonly estimate: number; readonly items: SettleItem[] } | undefined;
  done: boolean;
}

const RESERVATION_MARGIN_MS = 60_000;
const DEFAULT_DEADLINE_MS = 3_600_000;

export function createLimitStage(opts: LimitStageOptions): Stage {
  const { config, backend, models } = opts;
  if (config.rules.length === 0) throw new Error('limit: no rules (leave the stage out instead)');
  const leaseTtlMs = config.leaseTtlMs;
  const held = new WeakMap<RequestContext, Held>();

  async function finalize(
    ctx: RequestContext,
    h: Held,
    usage: Usage | undefined,
    reachedUpstream: boolean,
  ): Promise<void> {
    if (h.done) return;
    h.done = true;
    if (h.renewTimer) clearInterval(h.renewTimer);
    const r = h.reservation;
    if (!r && h.slotKeys.length === 0) return;
    // No usage: charge the estimate if a provider may have done the work; refund if none was asked.
    const settle = r
      ? {
          id: r.id,
          items: r.items,
          reserved: r.estimate,
          actual: usage ? usage.total_tokens : reachedUpstream ? r.estimate : 0,
        }
      : undefined;
    try {
      // One backend operation (one Redis round trip): settle the tokens and free the slots.
      const outcome = await backend.finish(settle, h.slotKeys, h.leaseId);
      if (outcome === 'expired')
        ctx.log.debug({ requestId: ctx.id }, 'token reservation had expired; only an overrun was charged');
    } catch (err) {
      ctx.log.warn(
        { err, requestId: ctx.id },
        'could not settle token reservation or release concurrency slots (the reservation stays charged at its estimate; the lease will expire)',
      );
    }
  }

  return {
    name: 'limit',

    async onRequest(ctx) {
      const req = ctx.request;
      if (!req || req.operation === 'models') return; // model listings are answered from config
      const caller = ctx.caller;
      if (!caller) throw new Error('limit: no caller (identify must run first)');
      const limits = applicableLimits(config.rules, caller, req.body.model);
      if (limits.length === 0) return;
      const slots = limits.filter((l): l is ConcurrencyLimit => l.kind === 'concurrency');
      const requests = limits.filter((l): l is RateLimit => l.kind === 'requests');
      const tokens = limits.filter((l): l is RateLimit => l.kind === 'tokens');
      const h: Held = { leaseId: ctx.id, slotKeys: [], renewTimer: undefined, reservation: undefined, done: false };

      try {
        const rates = [...requests, ...tokens];
        const estimate = tokens.length > 0 ? estimateTokens(req, config.defaultMaxTokens) : 0;
        const deadline = models.get(req.body.model)?.timeoutMs ?? DEFAULT_DEADLINE_MS;
        // Slots, then rates and the token reservation, in one backend operation (one Redis round
        // trip); a refusal of either leaves nothing held or consumed.
        const admitted = await backend.admit(
          slots.map((s) => ({ key: s.key, max: s.max })),
          h.leaseId,
          leaseTtlMs,
          rates.map((l) => ({
            key: l.key,
            intervalMs: l.intervalMs,
            capacity: l.capacity,
            cost: l.kind === 'tokens' ? estimate : 1,
          })),
          tokens.length > 0 ? { id: ctx.id, amount: estimate, ttlMs: deadline + RESERVATION_MARGIN_MS } : undefined,
        );
        if (!admitted.slots.allowed) {
          const i = admitted.slots.items.findIndex((s) => !s.allowed);
          const limit = slots[i]!;
          throw gatewayError('limit.concurrency', {
            params: { policy: limit.policy, limit: limit.max },
            retryAfterS: 1,
            headers: rateLimitHeaders(limit, { remaining: 0, resetMs: 1000 }),
            internal: { keyId: caller.keyId, tenantId: caller.tenantId, inUse: admitted.slots.items[i]?.inUse },
          });
        }
        const taken = admitted.rates;
        const states = taken === undefined ? [] : rates.map((limit, i) => ({ limit, state: taken.items[i]! }));
        if (taken !== undefined && !taken.allowed)
          throw refusal(
            states.filter((s) => !s.state.allowed),
            estimate,
            caller.keyId,
          );
        if (slots.length > 0) {
          h.slotKeys.push(...slots.map((s) => s.key));
          h.renewTimer = setInterval(() => renew(ctx, h), Math.max(250, Math.floor(leaseTtlMs / 3)));
          h.renewTimer.unref();
        }
        if (tokens.length > 0)
          h.reservation = {
            id: ctx.id,
            estimate,
            items: tokens.map((t) => ({ key: t.key, intervalMs: t.intervalMs })),
          };
        if (h.slotKeys.length > 0 || h.reservation) held.set(ctx, h);
        const shown = tightest(states.filter((s) => s.limit.kind === 'requests'));
        if (shown) ctx.responseHeaders = { ...ctx.responseHeaders, ...rateLimitHeaders(shown.limit, shown.state) };
      } catch (err) {
        await finalize(ctx, h, undefined, false);
        held.delete(ctx);
        if (err instanceof LimitBackendError) {
          ctx.log.error(
            { event: 'limits.backend_unavailable', reason: err.message, requestId: ctx.id },
            'rate limiter unavailable; request refused (fail closed)',
          );
          throw gatewayError('limit.backend_unavailable', { cause: err, retryAfterS: 1 });
        }
        throw err;
      }
    },

    onResponse(ctx) {
      const h = held.get(ctx);
      const response = ctx.response;
      if (!h || !response) return;
      if (response.kind === 'chat-stream') {
        response.stream = settleWhenDone(response.stream, (usage) => finalize(ctx, h, usage, true));
        return;
      }
      const usage =
        response.kind === 'chat'
          ? response.body.usage
          : response.kind === 'embeddings'
            ? {
                prompt_tokens: response.body.usage.prompt_tokens,
                completion_tokens: 0,
                total_tokens: response.body.usage.total_tokens,
              }
            : undefined;
      return finalize(ctx, h, usage, true);
    },

    async onFinish(ctx) {
      const h = held.get(ctx);
      if (!h) return;
      held.delete(ctx);
      await finalize(ctx, h, ctx.outcome.usage, ctx.outcome.attempts > 0 || ctx.response !== undefined);
    },
  };

  function renew(ctx: RequestContext, h: Held): void {
    if (h.done) return;
    backend.renew(h.slotKeys, h.leaseId, leaseTtlMs).then(
      (ok) => {
        if (!ok && !h.done) ctx.log.warn({ requestId: ctx.id }, 'concurrency lease had expired before renewal');
      },
      (err: unknown) => ctx.log.warn({ err, requestId: ctx.id }, 'could not renew concurrency lease'),
    );
  }
}

/** The 429 for the binding limit: the refused one with the longest wait. */
function refusal(
  refused: ReadonlyArray<{ limit: RateLimit; state: RateState }>,
  estimate: number,
  keyId: string,
): GatewayError {
  const wait = (s: RateState): number => s.retryAfterMs ?? Number.POSITIVE_INFINITY;
  let worst = refused[0]!;
  for (const r of refused) if (wait(r.state) > wait(worst.state)) worst = r;
  const { limit, state } = worst;
  // A token estimate larger than a whole minute's budget never fits; say "a minute" rather than never.
  const retryAfterS = Math.ceil((state.retryAfterMs ?? limit.windowS * 1000) / 1000);
  const headers = rateLimitHeaders(limit, state);
  const internal = { keyId, refused: refused.map((r) => r.limit.policy) };
  if (limit.kind === 'tokens') {
    return gatewayError('limit.tokens', {
      params: { policy: limit.policy, limit: limit.limit, estimate },
      retryAfterS,
      headers,
      internal,
    });
  }
  return gatewayError('limit.requests', {
    params: { policy: limit.policy, limit: limit.limit, window: limit.windowS === 1 ? 'second' : 'minute' },
    retryAfterS,
    headers,
    internal,
  });
}

/** Passes chunks through and runs `done` with the stream's usage when it ends, fails or is abandoned. */
async function* settleWhenDone(
  stream: AsyncIterable<ChatChunk>,
  done: (usage: Usage | undefined) => Promise<void>,
): AsyncGenerator<ChatChunk> {
  let usage: Usage | undefined;
  try {
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      yield chunk;
    }
  } finally {
    await done(usage);
  }
}
