/**
 * Builds, validates and freezes the stage chain at startup. Order is fixed by STAGE_ORDER;
 * a chain with an unknown, duplicated or out-of-order stage is a startup error.
 */

import { isGatewayError } from '../errors/gateway-error.ts';
import type { RequestSpans } from '../observability/trace/spans.ts';
import type { RequestContext } from './context.ts';
import { STAGE_ORDER, type Stage, type Terminal } from './stage.ts';

export interface Pipeline {
  readonly stageNames: readonly string[];
  /** Run onRequest hooks, onDecision hooks, the terminal, then onResponse hooks. Throws what a stage throws. */
  handle(ctx: RequestContext, terminal: Terminal): Promise<void>;
  /** Run onFinish hooks of the stages that were entered for this context. Never throws. */
  finish(ctx: RequestContext): Promise<void>;
}

const entered = new WeakMap<RequestContext, number>();

export function createPipeline(stages: readonly Stage[]): Pipeline {
  validateChain(stages);
  const chain = Object.freeze([...stages]);
  const names = Object.freeze(chain.map((s) => s.name));

  // The same walk with a span per hook; a separate copy so untraced requests pay nothing.
  async function handleTraced(ctx: RequestContext, terminal: Terminal, spans: RequestSpans): Promise<void> {
    for (let i = 0; i < chain.length; i++) {
      entered.set(ctx, i + 1);
      const stage = chain[i]!;
      if (stage.onRequest) await timed(spans, stage.name, 'onRequest', () => stage.onRequest!(ctx));
    }
    for (const stage of chain) {
      if (stage.onDecision) await timed(spans, stage.name, 'onDecision', () => stage.onDecision!(ctx));
    }
    await terminal(ctx);
    for (let i = chain.length - 1; i >= 0; i--) {
      const stage = chain[i]!;
      if (stage.onResponse) await timed(spans, stage.name, 'onResponse', () => stage.onResponse!(ctx));
    }
  }

  return Object.freeze({
    stageNames: names,

    async handle(ctx: RequestContext, terminal: Terminal): Promise<void> {
      const spans = ctx.spans;
      if (spans !== undefined) return handleTraced(ctx, terminal, spans);
      for (let i = 0; i < chain.length; i++) {
        entered.set(ctx, i + 1);
        const stage = chain[i]!;
        if (stage.onRequest) await stage.onRequest(ctx);
      }
      for (const stage of chain) {
        if (stage.onDecision) await stage.onDecision(ctx);
      }
      await terminal(ctx);
      for (let i = chain.length - 1; i >= 0; i--) {
        const stage = chain[i]!;
        if (stage.onResponse) await stage.onResponse(ctx);
      }
    },

    async finish(ctx: RequestContext): Promise<void> {
      const count = entered.get(ctx) ?? 0;
      entered.delete(ctx);
      for (let i = count - 1; i >= 0; i--) {
        const stage = chain[i]!;
        if (!stage.onFinish) continue;
        try {
          await stage.onFinish(ctx);
        } catch (err) {
          ctx.log.error({ err, stage: stage.name, requestId: ctx.id }, 'stage onFinish failed');
        }
      }
    },
  });
}

async function timed(spans: RequestSpans, stage: string, hook: string, run: () => void | Promise<void>): Promise<void> {
  const start = performance.now();
  try {
    await run();
  } catch (err) {
    spans.stage(stage, hook, start, performance.now(), isGatewayError(err) ? err.code : 'internal');
    throw err;
  }
  spans.stage(stage, hook, start, performance.now());
}

function validateChain(stages: readonly Stage[]): void {
  let lastRank = -1;
  const seen = new Set<string>();
  for (const stage of stages) {
    const rank = STAGE_ORDER.indexOf(stage.name);
    if (rank < 0) throw new Error(`pipeline: unknown stage "${String(stage.name)}"`);
    if (seen.has(stage.name)) throw new Error(`pipeline: stage "${stage.name}" appears twice`);
    if (rank < lastRank) {
      throw new Error(
        `pipeline: stage "${stage.name}" must come before "${STAGE_ORDER[lastRank]}" (order: ${STAGE_ORDER.join(' → ')})`,
      );
    }
    if (!stage.onRequest && !stage.onDecision && !stage.onResponse && !stage.onFinish) {
      throw new Error(`pipeline: stage "${stage.name}" has no hooks`);
    }
    seen.add(stage.name);
    lastRank = rank;
  }
}
