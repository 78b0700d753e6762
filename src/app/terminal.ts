/**
 * The end of the chain: model listings are answered from config; chat and embeddings go to
 * `upstream/`, which owns retries, fallback and deadlines.
 */

import type { GatewayConfig } from '../config/types.ts';
import type { RequestContext } from '../core/context.ts';
import type { Terminal } from '../core/stage.ts';
import { gatewayError } from '../errors/gateway-error.ts';
import { childTraceparent, formatTraceparent } from '../observability/trace/traceparent.ts';
import type { Tracer } from '../observability/trace/tracer.ts';
import { modelAllowed } from '../policy/model-patterns.ts';
import { clientBodyFor } from '../surfaces/openai/client-body.ts';
import { modelBody, modelsListBody } from '../surfaces/openai/render.ts';
import type { AttemptReport, Upstream, UpstreamCall } from '../upstream/index.ts';

export interface TerminalOptions {
  readonly config: GatewayConfig;
  readonly upstream: Upstream;
  /** Unix seconds reported as every model's `created`. */
  readonly createdAt: number;
  /** Told about every upstream attempt (metrics); must not throw. */
  readonly onAttempt?: (a: AttemptReport) => void;
  /** Records a span per upstream attempt for sampled requests. */
  readonly tracer?: Tracer | undefined;
}

export function createTerminal(opts: TerminalOptions): Terminal {
  return async (ctx) => {
    const req = ctx.request;
    if (!req) throw new Error('terminal: no request');
    if (req.operation === 'models') {
      ctx.response = { kind: 'json', status: 200, body: listModels(ctx, opts, req.modelId) };
      return;
    }
    const route = ctx.route;
    if (!route) throw new Error('terminal: no route (the route stage must run first)');
    const call: UpstreamCall = {
      requestId: ctx.id,
      publicModel: route.publicModel,
      route: route.config,
      signal: ctx.signal,
      // Upstream logs (attempt failures, broken streams) carry the request and trace ids.
      log: ctx.log.child({ requestId: ctx.id, traceId: ctx.traceId }),
      onAttempt: (a) => {
        ctx.outcome.attempts = a.attempt;
        ctx.outcome.target = a.target;
        opts.onAttempt?.(a);
        if (ctx.spans !== undefined && opts.tracer !== undefined) {
          ctx.spans.endAttempt(
            opts.tracer.attemptAttributes(ctx, a),
            a.result === 'success' ? undefined : `upstream.${a.result}`,
          );
        }
      },
      traceparent: traceparentFor(ctx),
    };
    // The same-dialect fast path: an OpenAI-surface body may be forwarded as the client wrote it
    // to OpenAI-wire targets (src/surfaces/openai/client-body.ts), unless a stage dropped the
    // kept body because it rewrote the request in place (guardrail redaction).
    const forward = ctx.surface === 'openai';
    if (req.operation === 'embeddings') {
      if (forward) call.clientEmbeddingsBody = clientBodyFor(ctx.openAiClientBody, req.body);
      const r = await opts.upstream.embeddings(call, req.body);
      ctx.outcome.target = r.target;
      ctx.outcome.attempts = r.attempts;
      ctx.response = { kind: 'embeddings', body: r.body };
      return;
    }
    if (forward) call.clientBody = clientBodyFor(ctx.openAiClientBody, req.body);
    const r = await opts.upstream.chat(call, req.body);
    ctx.outcome.target = r.target;
    ctx.outcome.attempts = r.attempts;
    ctx.response = r.kind === 'chat' ? { kind: 'chat', body: r.body } : { kind: 'chat-stream', stream: r.stream };
  };
}

/** Each upstream attempt continues the request's trace as a new child span. */
function traceparentFor(ctx: RequestContext): (() => string) | undefined {
  const traceId = ctx.traceId;
  if (traceId === undefined) return undefined;
  const trace = { traceId, flags: ctx.traceFlags ?? 0 };
  const spans = ctx.spans;
  // Traced: the attempt's own span id is the parent the provider sees, linking its spans to ours.
  if (spans !== undefined) return () => formatTraceparent(traceId, spans.startAttempt(), trace.flags);
  return () => childTraceparent(trace);
}

function listModels(ctx: RequestContext, opts: TerminalOptions, modelId: string | undefined): unknown {
  const allowed = ctx.caller?.allowedModels ?? [];
  if (modelId !== undefined) {
    const route = opts.config.models.get(modelId);
    if (!route || !modelAllowed(allowed, modelId))
      throw gatewayError('model.not_found', { params: { model: modelId } });
    return modelBody({ id: route.name, created: opts.createdAt, owned_by: route.ownedBy });
  }
  const visible = [...opts.config.models.values()]
    .filter((r) => modelAllowed(allowed, r.name))
    .map((r) => ({ id: r.name, created: opts.createdAt, owned_by: r.ownedBy }));
  return modelsListBody(visible);
}
