/**
 * The HTTP request handler: matches the endpoint, builds the request context, runs the stage
 * chain and writes the result in the client's dialect. It holds no policy of its own.
 */
import { randomUUIDv7 } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdminHandler } from '../admin/server.ts';
import type { ApiRouteTarget } from '../apis/call.ts';
import { writeApiAnswer, writeApiStream } from '../apis/respond.ts';
import { type ClientCertInfo, newOutcome, type RequestContext } from '../core/context.ts';
import type { Pipeline } from '../core/pipeline.ts';
import type { Terminal } from '../core/stage.ts';
import { type GatewayError, gatewayError } from '../errors/gateway-error.ts';
import type { ExtraEndpoints } from '../identity/oauth/oauth-server.ts';
import type { Logger } from '../observability/logger.ts';
import { startRequestTrace } from '../observability/trace/traceparent.ts';
import type { Tracer } from '../observability/trace/tracer.ts';
import type { ApiPathRecord } from '../store/prompt-api-records.ts';
import { toMessagesResponse } from '../surfaces/anthropic/index.ts';
import { openAiChatBody } from '../surfaces/openai/render.ts';
import { clientCertOf } from '../tls/client-cert.ts';
import { type ClientIpResolver, createClientIpResolver } from './client-ip.ts';
import { readBody } from './read-body.ts';
import { sendError, sendJson, toGatewayError } from './respond.ts';
import { type Endpoint, matchRoute } from './route-table.ts';
import { observeChunks, writeAnthropicStream, writeOpenAiStream } from './write-stream.ts';

export interface Lifecycle {
  draining: boolean;
  /** One controller per in-flight model request; aborted when the drain deadline passes. */
  readonly inFlight: Set<AbortController>;
  /** Model requests accepted since start (read by the idle memory release, src/cli/idle-memory.ts). */
  arrivals: number;
}

/** The chain a request runs under, taken once when it arrives and released when it has finished. */
export interface RequestRuntime {
  readonly pipeline: Pipeline;
  readonly terminal: Terminal;
  /** The live policy version of that chain (on the request record and the access log line). */
  readonly policyVersion: number | undefined;
  /** Called exactly once, after the response (stream included) and the finish hooks are done. */
  release(): void;
}

export interface HandlerDeps {
  /** The current runtime snapshot (src/live-policy/swap.ts): read once per request. */
  readonly runtime: () => RequestRuntime;
  readonly log: Logger;
  readonly maxBodyBytes: number;
  /** Model requests in flight above which new ones are shed with 503 (load shedding). */
  readonly maxInFlight: number;
  /** Resolves true when the store and config are ready to serve. */
  readonly ready: () => Promise<boolean>;
  readonly lifecycle: Lifecycle;
  /** Told how each request ended (metrics); must not throw. */
  readonly observer?: RequestObserver;
  /** OpenTelemetry spans for sampled requests (`tracing.enabled`). */
  readonly tracer?: Tracer | undefined;
  /** Resolves the client address from the peer and X-Forwarded-For (`server.trusted_proxies`); default: no proxy trusted. */
  readonly clientIp?: ClientIpResolver;
  /** Endpoints served beside the model API, outside the stage chain (the OAuth server); tried first. */
  readonly extraEndpoints?: ExtraEndpoints;
  /** The admin API (/admin/v1), when served on this listener; outside the stage chain. */
  readonly admin?: AdminHandler;
  /** Looks up a prompt API's opaque path (`/x/{path}`); absent: every such path is unknown. */
  readonly apiPaths?: (path: string) => Promise<ApiPathRecord | undefined>;
}

export interface RequestObserver {
  /** A model request, after its access log line; `route` is the endpoint's path template. */
  requestEnded(ctx: RequestContext, route: string): void;
  /** A request answered before any stage ran: unknown path (`unmatched`), wrong method, draining, shed. */
  requestRefused(route: string, status: number, code: string, durationMs: number): void;
}

const UNTRUSTING = createClientIpResolver([]);

export function createRequestHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      deps.log.error({ err }, 'request handler failed');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };
}

async function handle(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const arrivedAt = performance.now();
  // Time-ordered (RFC 9562 version 7: the millisecond, then 74 random bits), because the id is
  // a unique key of every request record and an index key of the audit log and payload log:
  // random (version 4) ids put each insert on a random page of those indexes, which made every
  // commit write pages all over them. See docs/benchmarks.md, "Request ids".
  const requestId = randomUUIDv7();
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const method = req.method ?? 'GET';
  if (deps.extraEndpoints !== undefined) {
    const clientIp = (deps.clientIp ?? UNTRUSTING)(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for']);
    if (await deps.extraEndpoints(req, res, { requestId, method, path, rawUrl, clientIp })) return;
  }
  if (deps.admin?.handles(path)) return deps.admin.handle(req, res);
  const match = matchRoute(method, path);

  if (match.type === 'not_found') {
    return refuse(
      deps,
      res,
      match.surface,
      gatewayError('request.not_found', { params: { method, path: path.slice(0, 200) } }),
      requestId,
      'unmatched',
      arrivedAt,
    );
  }
  if (match.type === 'method_not_allowed') {
    const allowed = match.allowed.join(', ');
    return refuse(
      deps,
      res,
      match.surface,
      gatewayError('request.method_not_allowed', {
        params: { method, path, allowed },
        headers: { allow: allowed },
      }),
      requestId,
      'unmatched',
      arrivedAt,
    );
  }
  const { endpoint } = match;
  let apiTarget: ApiRouteTarget | undefined;
  if (match.api?.kind === 'opaque') {
    // Resolved before anything else: an unknown or expired opaque path must be indistinguishable
    // from any other unknown path (same status, body, headers and metrics route), credentials or not.
    const record = await deps.apiPaths?.(match.api.path);
    if (record === undefined || (record.expiresAt !== null && Date.parse(record.expiresAt) <= Date.now())) {
      return refuse(
        deps,
        res,
        'openai',
        gatewayError('request.not_found', { params: { method, path: path.slice(0, 200) } }),
        requestId,
        'unmatched',
        arrivedAt,
      );
    }
    if (method !== 'POST') {
      return refuse(
        deps,
        res,
        'openai',
        gatewayError('request.method_not_allowed', {
          params: { method, path, allowed: 'POST' },
          headers: { allow: 'POST' },
        }),
        requestId,
        endpoint.path,
        arrivedAt,
      );
    }
    apiTarget = { kind: 'opaque', path: record };
  } else if (match.api !== undefined) {
    apiTarget = match.api;
  }
  if (endpoint.kind === 'healthz') return sendJson(res, 200, { status: 'ok' }, requestId);
  if (endpoint.kind === 'readyz') return readyz(deps, res, requestId);
  if (deps.lifecycle.draining) {
    return refuse(
      deps,
      res,
      endpoint.surface,
      gatewayError('gateway.shutting_down', { headers: { connection: 'close' } }),
      requestId,
      endpoint.path,
      arrivedAt,
    );
  }
  if (deps.lifecycle.inFlight.size >= deps.maxInFlight) {
    // Shed before reading the body or touching the store: refusing early is what keeps the
    // instance responsive for the requests it already accepted.
    return refuse(
      deps,
      res,
      endpoint.surface,
      gatewayError('gateway.overloaded', { retryAfterS: 1 }),
      requestId,
      endpoint.path,
      arrivedAt,
    );
  }
  // An opaque path stays out of access logs, traces and audit records: they see its template.
  const shownPath = apiTarget?.kind === 'opaque' ? endpoint.path : path;
  await handleModelRequest(deps, req, res, endpoint, match.modelId, requestId, shownPath, apiTarget);
}

function refuse(
  deps: HandlerDeps,
  res: ServerResponse,
  surface: Endpoint['surface'],
  err: GatewayError,
  requestId: string,
  route: string,
  arrivedAt: number,
): void {
  sendError(res, surface, err, requestId);
  deps.observer?.requestRefused(route, err.status, err.code, performance.now() - arrivedAt);
}

async function readyz(deps: HandlerDeps, res: ServerResponse, requestId: string): Promise<void> {
  let ok = false;
  try {
    ok = !deps.lifecycle.draining && (await deps.ready());
  } catch (err) {
    deps.log.warn({ err }, 'readiness check failed');
  }
  if (ok) return sendJson(res, 200, { status: 'ready' }, requestId);
  return sendJson(res, 503, { status: deps.lifecycle.draining ? 'draining' : 'not_ready' }, requestId);
}

async function handleModelRequest(
  deps: HandlerDeps,
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: Endpoint,
  modelId: string | undefined,
  requestId: string,
  path: string,
  apiTarget: ApiRouteTarget | undefined,
): Promise<void> {
  const controller = new AbortController();
  deps.lifecycle.inFlight.add(controller);
  deps.lifecycle.arrivals++;
  // One snapshot for the whole request: a policy applied meanwhile does not change its rules.
  const runtime = deps.runtime();
  let bodyRead: Promise<Buffer> | undefined;
  const operation =
    endpoint.kind === 'embeddings'
      ? 'embeddings'
      : endpoint.kind === 'models' || endpoint.kind === 'api_catalog'
        ? 'models'
        : 'chat';
  const trace = startRequestTrace(req.headers.traceparent, deps.tracer?.sampleNew);
  const spans = deps.tracer?.begin(trace);
  const ctx: RequestContext = {
    id: requestId,
    traceId: trace.traceId,
    spanId: trace.spanId,
    traceFlags: trace.flags,
    ...(spans === undefined ? {} : { spans }),
    ...(runtime.policyVersion === undefined ? {} : { policyVersion: runtime.policyVersion }),
    startedAt: performance.now(),
    receivedAt: new Date(),
    surface: endpoint.surface,
    operation,
    http: {
      method: endpoint.method,
      path,
      query: queryOf(req.url ?? ''),
      headers: req.headers,
      remoteAddress: req.socket.remoteAddress ?? '',
      clientIp: (deps.clientIp ?? UNTRUSTING)(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for']),
      ...withClientCert(req),
    },
    signal: controller.signal,
    log: deps.log,
    readBody: () => (bodyRead ??= readBody(req, deps.maxBodyBytes)),
    caller: undefined,
    request: operation === 'models' ? { operation: 'models', modelId } : undefined,
    surfaceRequest: undefined,
    route: undefined,
    response: undefined,
    ...(apiTarget === undefined ? {} : { promptApi: { target: apiTarget } }),
    outcome: newOutcome(),
  };
  res.on('close', () => {
    if (!res.writableFinished) {
      ctx.outcome.clientAborted = true;
      controller.abort(new Error('client disconnected'));
    }
  });

  try {
    await runtime.pipeline.handle(ctx, runtime.terminal);
    await writeResponse(res, ctx);
  } catch (err) {
    if (ctx.outcome.clientAborted) {
      res.destroy();
    } else {
      const gerr = toGatewayError(err, requestId);
      ctx.outcome.status = gerr.status;
      ctx.outcome.errorCode = gerr.code;
      if (gerr.status >= 500)
        ctx.log.error(
          { err: gerr.cause ?? gerr, code: gerr.code, internal: gerr.internal, requestId, traceId: ctx.traceId },
          'request failed',
        );
      else ctx.log.debug({ code: gerr.code, internal: gerr.internal, requestId }, 'request refused');
      if (!res.headersSent) sendError(res, ctx.surface, gerr, requestId);
      else res.destroy();
    }
  } finally {
    deps.lifecycle.inFlight.delete(controller);
    deps.observer?.requestEnded(ctx, endpoint.path);
    deps.tracer?.finish(ctx, endpoint.path);
    try {
      await runtime.pipeline.finish(ctx);
    } finally {
      runtime.release();
    }
    // After the finish hooks, so the line carries what the meter priced.
    logAccess(ctx);
  }
}

async function writeResponse(res: ServerResponse, ctx: RequestContext): Promise<void> {
  const response = ctx.response;
  if (!response) throw new Error('the chain ended without a response');
  if (response.kind !== 'json') ctx.responseHeaders = { ...ctx.responseHeaders, ...servedByHeaders(ctx) };
  const api = ctx.promptApi?.resolved;
  if (api !== undefined && response.kind === 'chat') return writeApiAnswer(res, ctx, api, response.body);
  if (api !== undefined && response.kind === 'chat-stream')
    return writeApiStream(res, ctx, api, observeChunks(ctx, response.stream));
  switch (response.kind) {
    case 'chat': {
      ctx.outcome.usage = response.body.usage;
      ctx.outcome.finishReason = response.body.choices[0]?.finish_reason;
      ctx.outcome.status = 200;
      const model = ctx.request?.operation === 'chat' ? ctx.request.body.model : response.body.model;
      const body =
        ctx.surface === 'anthropic' ? toMessagesResponse(response.body, model) : openAiChatBody(response.body);
      ctx.outcome.firstByteMs = performance.now() - ctx.startedAt;
      return sendJson(res, 200, body, ctx.id, ctx.responseHeaders);
    }
    case 'chat-stream': {
      const request = ctx.request;
      if (request?.operation !== 'chat') throw new Error('stream response without a chat request');
      const chunks = observeChunks(ctx, response.stream);
      if (ctx.surface === 'anthropic') return writeAnthropicStream(res, ctx, chunks, request.body.model);
      return writeOpenAiStream(res, ctx, chunks, request.body.stream_options?.include_usage === true);
    }
    case 'embeddings':
      ctx.outcome.usage = {
        prompt_tokens: response.body.usage.prompt_tokens,
        completion_tokens: 0,
        total_tokens: response.body.usage.total_tokens,
      };
      ctx.outcome.status = 200;
      return sendJson(res, 200, response.body, ctx.id, ctx.responseHeaders);
    case 'json':
      ctx.outcome.status = response.status;
      return sendJson(res, response.status, response.body, ctx.id, ctx.responseHeaders);
  }
}

/**
 * Which provider and model answered (after any fallback), so a client can tell without the
 * logs: the provider's id in the config and the provider's own model name, plus the number
 * of upstream attempts it took. Never the provider's URL or credentials.
 */
export function servedByHeaders(ctx: RequestContext): Record<string, string> {
  const target = ctx.outcome.target;
  if (target === undefined) return {};
  return {
    'x-portcullis-provider': target.provider,
    'x-portcullis-model': target.model,
    'x-portcullis-attempts': String(ctx.outcome.attempts),
  };
}

function logAccess(ctx: RequestContext): void {
  const o = ctx.outcome;
  ctx.log.info(
    {
      requestId: ctx.id,
      traceId: ctx.traceId,
      policyVersion: ctx.policyVersion,
      method: ctx.http.method,
      path: ctx.http.path,
      status: o.status,
      latencyMs: Math.round((performance.now() - ctx.startedAt) * 100) / 100,
      keyId: ctx.caller?.keyId,
      clientCertSubject: ctx.http.clientCert?.subject,
      clientCertSha256: ctx.http.clientCert?.fingerprint256,
      tenantId: ctx.caller?.tenantId,
      model: ctx.route?.publicModel,
      provider: o.target?.provider,
      targetModel: o.target?.model,
      attempts: o.attempts || undefined,
      errorCode: o.errorCode,
      promptTokens: o.metered?.usage?.prompt_tokens ?? o.usage?.prompt_tokens,
      completionTokens: o.metered?.usage?.completion_tokens ?? o.usage?.completion_tokens,
      costMicros: o.metered?.costMicros ?? undefined,
      usageEstimated: o.metered?.estimated === true ? true : undefined,
      clientAborted: o.clientAborted || undefined,
    },
    'request',
  );
}

/** The raw query string without `?` ('' when none). */
function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q + 1);
}

/** The verified mutual-TLS client certificate, when there is one (left out otherwise). */
function withClientCert(req: IncomingMessage): { clientCert?: ClientCertInfo } {
  const cert = clientCertOf(req.socket);
  return cert === undefined ? {} : { clientCert: cert };
}
