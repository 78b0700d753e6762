/**
 * budget: spending budgets (budgets.rules) per key, user, team or tenant. Every applicable
 * budget must have room; the request is refused (402 `budget.exceeded`, before the call)
 * otherwise.
 *
 * onRequest reserves the worst-case cost on every applicable counter, all-or-nothing: an upper
 * bound of the prompt's tokens for each target (src/limits/prompt-bound.ts: the model's own
 * tokenizer, or one token per byte, plus the format's overhead) at the input price (at the
 * cache-write price when the request carries prompt caching hints) plus `max_tokens` (or
 * budgets.default_max_tokens) at the output price, at the dearest of the route's targets. A
 * model without a price fails closed (403 `budget.unpriced_model`) unless the rule says
 * `unpriced: allow`. A refusal says whether the budget is exhausted (`budget.exceeded`) or
 * only too short for this request's worst case (`budget.reservation_too_large`, naming the
 * amount and the largest `max_tokens` that would fit). A non-streamed request that sets no
 * maximum is capped at budgets.default_max_tokens, the amount reserved for it.
 *
 * onResponse settles with the real cost: for a stream, as it ends (before the client sees its
 * last event). A stream that outgrows its reservation extends it as it goes; when the budget
 * has no room left the stream is ended with a `budget.exceeded` error event in the client's
 * dialect, and what was generated up to there is charged and recorded. onFinish settles
 * whatever is left: errors and refusals by later stages release the reservation, a client gone
 * mid-stream is charged for what was relayed.
 *
 * Backend unreachable: 503 `budget.backend_unavailable` (fail closed) unless the backend was
 * opened with the local fallback.
 */

import type { RequestContext } from '../../core/context.ts';
import type { Stage } from '../../core/stage.ts';
import {
  cacheWriteHint,
  meterUsage,
  newStreamTally,
  priceEstimate,
  priceTokens,
  responseChars,
  type StreamTally,
  tallyChunk,
} from '../../cost/meter-usage.ts';
import { formatMicros } from '../../cost/money.ts';
import type { ModelPrice } from '../../cost/price-table.ts';
import { type GatewayError, gatewayError } from '../../errors/gateway-error.ts';
import type { SecurityEventSink } from '../../events/security-events.ts';
import {
  type BudgetBackend,
  BudgetBackendError,
  type BudgetItem,
  type BudgetTakeResult,
} from '../../limits/budgets/budget-backend.ts';
import type { BudgetsConfig } from '../../limits/budgets/config-types.ts';
import { estimateTextTokens, estimateTokenParts } from '../../limits/estimate.ts';
import { type BoundMode, promptTokenBound, type TokenizedTarget } from '../../limits/prompt-bound.ts';
import type { ChatChunk, Usage } from '../../providers/canonical.ts';
import type { ModelRouteConfig, TargetConfig } from '../../providers/config-types.ts';
import type { ProviderKind } from '../../providers/contract.ts';
import { type AppliedBudget, applicableBudgets, budgetSubject } from './rules.ts';

export interface BudgetStageOptions {
  readonly config: BudgetsConfig;
  readonly backend: BudgetBackend;
  readonly models: ReadonlyMap<string, ModelRouteConfig>;
  /** The price of a target (provider + upstream model); undefined when it has none. */
  readonly priceFor: (target: TargetConfig) => ModelPrice | undefined;
  /** The kind of a configured provider (which tokenizer and billing rules its targets follow). */
  readonly providerKind: (providerId: string) => ProviderKind | undefined;
  readonly events: SecurityEventSink;
  readonly now?: () => number;
}

interface Held {
  readonly budgets: AppliedBudget[];
  readonly items: BudgetItem[];
  /** µ$ reserved so far (grows when a stream extends it). */
  reserved: number;
  readonly promptEstimate: number;
  /** The dearest prompt-cache write the request's hints can cause (priced into every estimate). */
  readonly cacheHint: 'none' | '5m' | '1h';
  /** Completion tokens the request allows (max_tokens × n); a provider cannot bill more. Infinity: no cap asked. */
  readonly completionCap: number;
  /** The dearest target's price: used for the reservation and while the serving target is unknown. */
  readonly worst: ModelPrice;
  tally: StreamTally | undefined;
  done: boolean;
}

const RESERVATION_MARGIN_MS = 60_000;
const DEFAULT_DEADLINE_MS = 3_600_000;

export function createBudgetStage(opts: BudgetStageOptions): Stage {
  const { config, backend, models, priceFor, events } = opts;
  if (config.rules.length === 0) throw new Error('budget: no rules (leave the stage out instead)');
  const tokenized = (t: TargetConfig): TokenizedTarget => {
    const kind = opts.providerKind(t.provider);
    if (kind === undefined) throw new Error(`budget: route target names unknown provider ${t.provider}`);
    return { kind, model: t.model };
  };
  // No tokenizer is loaded at startup: reservations are made with the byte bound, and the
  // model's tokenizer (about 17 MB of heap) is loaded the first time one of them does not fit;
  // that request waits for the load (0.5–1 s, once).
  const now = opts.now ?? Date.now;
  const held = new WeakMap<RequestContext, Held>();
  const reservationTtl = (model: string): number =>
    (models.get(model)?.timeoutMs ?? DEFAULT_DEADLINE_MS) + RESERVATION_MARGIN_MS;

  function servingPrice(ctx: RequestContext, h: Held): ModelPrice {
    const target = ctx.outcome.target;
    return (target && priceFor(target)) ?? h.worst;
  }

  async function settle(
    ctx: RequestContext,
    h: Held,
    reported: Usage | undefined,
    completionChars: number | undefined,
  ): Promise<void> {
    if (h.done) return;
    h.done = true;
    const target = ctx.outcome.target;
    const metered = meterUsage({
      request: ctx.request,
      reported,
      completionChars,
      price: target ? priceFor(target) : undefined,
    });
    ctx.outcome.metered = metered;
    const u = metered.usage;
    // Unpriced serving target: the dearest price, cache reads at the input price, writes at theirs.
    const actual =
      metered.costMicros ??
      (u
        ? priceTokens(
            h.worst,
            u.prompt_tokens,
            0,
            u.completion_tokens,
            metered.cacheWriteTokens ?? 0,
            u.prompt_tokens_details?.cache_write_1h_tokens ?? 0,
          )
        : 0);
    try {
      const result = await backend.settle(ctx.id, h.items, h.reserved, actual);
      result.crossed.forEach((percents, i) => {
        const b = h.budgets[i]!;
        const state = result.items[i]!;
        for (const percent of percents) emitThreshold(ctx, b, percent, state.spentMicros);
      });
    } catch (err) {
      ctx.log.warn(
        { err, requestId: ctx.id },
        'could not settle budget reservation (it is charged at its estimate when it expires)',
      );
    }
  }

  function emitThreshold(ctx: RequestContext, b: AppliedBudget, percent: number, spentMicros: number): void {
    const caller = ctx.caller;
    events.emit({
      type: 'budget.threshold',
      severity: percent >= 100 ? 'critical' : 'warning',
      tenantId: caller?.tenantId ?? null,
      keyId: caller?.keyId ?? null,
      keyPrefix: caller?.keyPrefix ?? null,
      subject: caller?.subject ?? null,
      requestId: ctx.id,
      detail: {
        budget: b.rule.name,
        scope: b.rule.scope,
        scopeSubject: caller ? (budgetSubject(b.rule.scope, caller) ?? null) : null,
        percent,
        spentUsd: formatMicros(spentMicros),
        limitUsd: formatMicros(b.rule.amountMicros),
        periodStart: new Date(b.period.startMs).toISOString(),
        periodEnd: new Date(b.period.endMs).toISOString(),
      },
    });
  }

  function exceeded(b: AppliedBudget, ctx: RequestContext, internal: Record<string, unknown>): GatewayError {
    return gatewayError('budget.exceeded', {
      params: {
        scope: b.rule.scope,
        budget: b.rule.name,
        limit: formatMicros(b.rule.amountMicros),
        resetsAt: new Date(b.period.endMs).toISOString(),
      },
      internal: { requestId: ctx.id, keyId: ctx.caller?.keyId, ...internal },
    });
  }

  function tooLarge(
    b: AppliedBudget,
    ctx: RequestContext,
    reserve: number,
    remaining: number,
    fit: number,
    internal: Record<string, unknown>,
  ): GatewayError {
    const advice =
      fit >= 1
        ? `lower max_tokens to ${fit} or less to fit.`
        : 'even without output tokens the prompt does not fit: shorten it, or wait for requests in flight to settle.';
    return gatewayError('budget.reservation_too_large', {
      params: {
        reserve: formatMicros(reserve),
        remaining: formatMicros(remaining),
        scope: b.rule.scope,
        budget: b.rule.name,
        limit: formatMicros(b.rule.amountMicros),
        advice,
      },
      internal: { requestId: ctx.id, keyId: ctx.caller?.keyId, ...internal },
    });
  }

  /** Passes chunks on, extending the reservation as the stream outgrows it; settles when it ends. */
  async function* enforce(ctx: RequestContext, h: Held, stream: AsyncIterable<ChatChunk>): AsyncGenerator<ChatChunk> {
    const tally = newStreamTally();
    h.tally = tally;
    try {
      for await (const chunk of stream) {
        tallyChunk(tally, chunk);
        if (!chunk.usage) {
          const completion = Math.min(h.completionCap, estimateTextTokens(tally.completionChars));
          const running = priceEstimate(servingPrice(ctx, h), h.promptEstimate, completion, h.cacheHint);
          if (running > h.reserved) await grow(ctx, h, running - h.reserved);
        }
        yield chunk;
      }
    } finally {
      await settle(ctx, h, tally.usage, tally.completionChars);
    }
  }

  async function grow(ctx: RequestContext, h: Held, needed: number): Promise<void> {
    const ttl = reservationTtl(ctx.route?.publicModel ?? '');
    // Grow in steps (fewer backend calls); when a step does not fit, the exact need still may.
    for (const step of [Math.max(needed, Math.ceil(h.reserved / 4)), needed]) {
      let r: BudgetTakeResult;
      try {
        r = await backend.extend(ctx.id, h.items, step, ttl);
      } catch (err) {
        if (err instanceof BudgetBackendError) throw unavailable(ctx, err);
        throw err;
      }
      if (r.allowed) {
        h.reserved += step;
        return;
      }
      if (step === needed) {
        const i = r.items.findIndex((s) => !s.allowed);
        ctx.log.info(
          { event: 'budget.stream_cut', requestId: ctx.id, budget: h.budgets[i]?.rule.name },
          'stream passed a hard budget; ending it',
        );
        throw exceeded(h.budgets[Math.max(0, i)]!, ctx, { midStream: true, reserved: h.reserved, needed });
      }
    }
  }

  function unavailable(ctx: RequestContext, err: BudgetBackendError): GatewayError {
    ctx.log.error(
      { event: 'budgets.backend_unavailable', reason: err.message, requestId: ctx.id },
      'budget service unavailable; request refused (fail closed)',
    );
    return gatewayError('budget.backend_unavailable', { cause: err, retryAfterS: 1 });
  }

  return {
    name: 'budget',

    async onRequest(ctx) {
      const req = ctx.request;
      if (!req || req.operation === 'models') return;
      const caller = ctx.caller;
      if (!caller) throw new Error('budget: no caller (identify must run first)');
      const route = models.get(req.body.model);
      if (!route) return; // the route stage answers 404
      let budgets = applicableBudgets(config.rules, caller, req.body.model, now());
      if (budgets.length === 0) return;
      const prices = route.targets.map((t) => priceFor(t));
      const known = prices.filter((p): p is ModelPrice => p !== undefined);
      if (known.length < prices.length) {
        const strict = budgets.find((b) => b.rule.unpriced === 'refuse');
        if (strict) {
          throw gatewayError('budget.unpriced_model', {
            params: { scope: strict.rule.scope, budget: strict.rule.name },
            internal: {
              model: req.body.model,
              unpriced: route.targets.filter((_, i) => prices[i] === undefined).map((t) => `${t.provider}/${t.model}`),
            },
          });
        }
        // Every applicable rule opted out: an unpriced call is let through uncounted.
        budgets = [];
        if (known.length === 0) return;
      }
      if (budgets.length === 0) return;
      const completion = estimateTokenParts(req, config.defaultMaxTokens).completion;
      const cacheHint = req.operation === 'chat' ? cacheWriteHint(req.body) : 'none';
      // The dearest target's cost with the prompt bounded by `mode` (prompt-bound.ts).
      const estimate = async (mode: BoundMode) => {
        let worst = known[0]!;
        let amount = -1;
        let promptBound = 0;
        const bounds = new Map<string, number>();
        for (const t of route.targets) {
          const p = priceFor(t);
          if (p === undefined) continue;
          const tt = tokenized(t);
          const key = `${tt.kind}\u0000${tt.model}`;
          let prompt = bounds.get(key);
          if (prompt === undefined) {
            prompt = await promptTokenBound(req, tt, mode);
            bounds.set(key, prompt);
          }
          promptBound = Math.max(promptBound, prompt);
          const cost = priceEstimate(p, prompt, completion, cacheHint);
          if (cost > amount) {
            amount = cost;
            worst = p;
          }
        }
        return { worst, amount, promptBound };
      };
      const items = budgets.map((b) => b.item);
      const reserve = async (amount: number): Promise<BudgetTakeResult> => {
        try {
          return await backend.reserve(ctx.id, items, amount, reservationTtl(req.body.model));
        } catch (err) {
          if (err instanceof BudgetBackendError) throw unavailable(ctx, err);
          throw err;
        }
      };
      // Bytes first: tokenizing costs more than the rest of the stage, and the byte bound is
      // still an upper bound, so a reservation that fits with it is safe. Only one that does
      // not fit is worked out again with the model's tokenizer (a refusal is decided on the
      // exact bound, never the loose one).
      let { worst, amount, promptBound } = await estimate('bytes');
      let r = await reserve(amount);
      if (!r.allowed) {
        const exact = await estimate('exact');
        if (exact.amount < amount) {
          ({ worst, amount, promptBound } = exact);
          r = await reserve(amount);
        }
      }
      if (!r.allowed) {
        const i = r.items.findIndex((s) => !s.allowed);
        const s = r.items[i]!;
        const internal = { reserve: amount, spent: s.spentMicros, held: s.heldMicros };
        if (s.spentMicros >= s.limitMicros) throw exceeded(budgets[i]!, ctx, internal);
        const remaining = Math.max(0, s.limitMicros - s.spentMicros - s.heldMicros);
        const promptCost = priceEstimate(worst, promptBound, 0, cacheHint);
        const n = req.operation === 'chat' ? (req.body.n ?? 1) : 1;
        throw tooLarge(
          budgets[i]!,
          ctx,
          amount,
          remaining,
          maxTokensThatFit(remaining - promptCost, worst, n),
          internal,
        );
      }
      if (
        req.operation === 'chat' &&
        req.body.stream !== true &&
        req.body.max_completion_tokens === undefined &&
        req.body.max_tokens === undefined
      ) {
        // A whole answer cannot be cut once it is generated: cap it at what was reserved, so its
        // cost can never pass the reservation (a stream instead extends its reservation as it goes).
        req.body.max_completion_tokens = config.defaultMaxTokens;
      }
      const asked = req.operation === 'chat' ? (req.body.max_completion_tokens ?? req.body.max_tokens) : undefined;
      const completionCap =
        asked === undefined || req.operation !== 'chat' ? Number.POSITIVE_INFINITY : asked * (req.body.n ?? 1);
      held.set(ctx, {
        budgets,
        items,
        reserved: amount,
        promptEstimate: promptBound,
        cacheHint,
        completionCap,
        worst,
        tally: undefined,
        done: false,
      });
    },

    onResponse(ctx) {
      const h = held.get(ctx);
      const response = ctx.response;
      if (!h || !response) return;
      if (response.kind === 'chat-stream') {
        response.stream = enforce(ctx, h, response.stream);
        return;
      }
      if (response.kind === 'chat') return settle(ctx, h, response.body.usage, responseChars(response.body));
      if (response.kind === 'embeddings') {
        const u = response.body.usage;
        return settle(
          ctx,
          h,
          { prompt_tokens: u.prompt_tokens, completion_tokens: 0, total_tokens: u.total_tokens },
          0,
        );
      }
      return settle(ctx, h, undefined, undefined);
    },

    async onFinish(ctx) {
      const h = held.get(ctx);
      if (!h) return;
      held.delete(ctx);
      // Only what was relayed is charged: an error before any output releases the reservation.
      await settle(ctx, h, ctx.outcome.usage, h.tally?.completionChars);
    },
  };
}

/** The largest `max_tokens` whose output cost (× n) fits in `micros` at `price`; 0 when none does. */
function maxTokensThatFit(micros: number, price: ModelPrice, n: number): number {
  if (micros <= 0) return 0;
  if (price.outputMicrosPer1M <= 0) return Number.MAX_SAFE_INTEGER;
  return Math.max(0, Math.floor((micros * 1_000_000) / (price.outputMicrosPer1M * n)));
}
