/**
 * One attempt of each operation at one target: build the provider request with the adapter
 * (once per target per request), send it, and read or start reading the answer.
 */
import { gatewayError, isGatewayError } from '../errors/gateway-error.ts';
import type {
  ChatRequest,
  ChatResponse,
  ClientChatBody,
  ClientEmbeddingsBody,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from '../providers/canonical.ts';
import type { ProviderConfig, TargetConfig } from '../providers/config-types.ts';
import {
  type AdapterCallContext,
  type StreamTranslator,
  type UpstreamHttpRequest,
  UpstreamProtocolError,
} from '../providers/contract.ts';
import type { AttemptInput, AttemptOutcome } from './attempt-loop.ts';
import {
  discardBody,
  failureFromResponse,
  isSuccess,
  MAX_RESPONSE_BYTES,
  type PreparedRequest,
  parseJsonBody,
  prepareRequest,
  readBodyCapped,
  send,
} from './http-exchange.ts';
import { type StartedStream, startStream } from './sse-stream.ts';

export interface OperationCall {
  readonly requestId: string;
  readonly publicModel: string;
  /** Unix seconds, fixed for the whole request so every attempt's response agrees. */
  readonly created: number;
  /** A fresh `traceparent` value per attempt (see UpstreamCall). */
  readonly traceparent?: (() => string) | undefined;
}

function callContext(call: OperationCall, target: TargetConfig, provider: ProviderConfig): AdapterCallContext {
  return {
    upstreamModel: target.model,
    publicModel: call.publicModel,
    credential: provider.apiKey,
    requestId: call.requestId,
    created: call.created,
  };
}

/** Adapter bugs while building a request are the gateway's fault, not the provider's. */
function building<T>(call: OperationCall, target: TargetConfig, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isGatewayError(e)) throw e;
    throw gatewayError('internal.error', {
      params: { requestId: call.requestId },
      internal: { reason: 'adapter failed to build the upstream request', provider: target.provider, error: String(e) },
      cause: e,
    });
  }
}

/** Whatever an adapter throws on a provider answer means the answer was not understood. */
export function translating<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof UpstreamProtocolError || isGatewayError(e)) throw e;
    throw new UpstreamProtocolError(
      `adapter could not translate the response: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** Serialises each target's request body once, however many attempts reuse it. */
function preparedCache(call: OperationCall, build: (a: AttemptInput, ctx: AdapterCallContext) => UpstreamHttpRequest) {
  const cache = new Map<TargetConfig, PreparedRequest>();
  return (a: AttemptInput): PreparedRequest => {
    let p = cache.get(a.target);
    if (p === undefined) {
      const ctx = callContext(call, a.target, a.provider);
      p = building(call, a.target, () => prepareRequest(a.provider, a.adapter, build(a, ctx)));
      cache.set(a.target, p);
    }
    return p;
  };
}

async function jsonAttempt<T>(
  call: OperationCall,
  a: AttemptInput,
  prepared: PreparedRequest,
  read: (body: unknown) => T,
): Promise<AttemptOutcome<T>> {
  const res = await send(a.agent, prepared, a.scope.signal, call.traceparent?.());
  if (!isSuccess(res.statusCode)) return { ok: false, failure: await failureFromResponse(res, a.adapter, a.target) };
  const parsed = parseJsonBody(await readBodyCapped(res, MAX_RESPONSE_BYTES), a.target);
  if (!parsed.ok) return parsed;
  return { ok: true, value: translating(() => read(parsed.value)), status: res.statusCode };
}

/**
 * The provider request for a chat call: the client's own body when the adapter speaks its
 * dialect and can forward it (the same-dialect fast path), else built from the canonical request.
 */
function buildChat(req: ChatRequest, client: ClientChatBody | undefined) {
  return (a: AttemptInput, ctx: AdapterCallContext): UpstreamHttpRequest =>
    (client !== undefined && client.request === req ? a.adapter.forwardChatRequest?.(client, ctx) : undefined) ??
    a.adapter.chatRequest(req, ctx);
}

export function chatAttempt(
  call: OperationCall,
  req: ChatRequest,
  client?: ClientChatBody,
): (a: AttemptInput) => Promise<AttemptOutcome<ChatResponse>> {
  const prepare = preparedCache(call, buildChat(req, client));
  return (a) =>
    jsonAttempt(call, a, prepare(a), (body) => a.adapter.chatResponse(body, callContext(call, a.target, a.provider)));
}

export function chatStreamAttempt(
  call: OperationCall,
  req: ChatRequest,
  client?: ClientChatBody,
): (a: AttemptInput) => Promise<AttemptOutcome<StartedStream>> {
  const prepare = preparedCache(call, buildChat(req, client));
  return async (a) => {
    const prepared = prepare(a);
    const ctx = callContext(call, a.target, a.provider);
    // A fresh translator per attempt: it holds the state of one provider stream.
    const translator = building(call, a.target, () => a.adapter.chatStream(req, ctx));
    const res = await send(a.agent, prepared, a.scope.signal, call.traceparent?.());
    if (!isSuccess(res.statusCode)) return { ok: false, failure: await failureFromResponse(res, a.adapter, a.target) };
    try {
      return {
        ok: true,
        value: await startStream(res, guardedTranslator(translator), (reason) => a.scope.abort(reason)),
        status: res.statusCode,
      };
    } catch (e) {
      discardBody(res.body);
      throw e;
    }
  };
}

export function embeddingsAttempt(
  call: OperationCall,
  req: EmbeddingsRequest,
  client?: ClientEmbeddingsBody,
): (a: AttemptInput) => Promise<AttemptOutcome<EmbeddingsResponse>> {
  const prepare = preparedCache(call, (a, ctx) => {
    if (a.adapter.embeddingsRequest === undefined) throw unsupported(call);
    const fast =
      client !== undefined && client.request === req ? a.adapter.forwardEmbeddingsRequest?.(client, ctx) : undefined;
    return fast ?? a.adapter.embeddingsRequest(req, ctx);
  });
  return (a) =>
    jsonAttempt(call, a, prepare(a), (body) => {
      if (a.adapter.embeddingsResponse === undefined) throw unsupported(call);
      return a.adapter.embeddingsResponse(body, callContext(call, a.target, a.provider), req);
    });
}

/** A moderation call (guardrail judge): the provider's JSON answer as it came. */
export function moderationsAttempt(
  call: OperationCall,
  input: readonly string[],
): (a: AttemptInput) => Promise<AttemptOutcome<unknown>> {
  const prepare = preparedCache(call, (a, ctx) => {
    if (a.adapter.moderationsRequest === undefined) throw unsupported(call, 'moderations');
    return a.adapter.moderationsRequest(input, ctx);
  });
  return (a) => jsonAttempt(call, a, prepare(a), (body) => body);
}

function unsupported(call: OperationCall, operation = 'embeddings') {
  return gatewayError('model.operation_unsupported', { params: { model: call.publicModel, operation } });
}

/** Adapter bugs on stream events surface as protocol errors, like malformed events do. */
function guardedTranslator(t: StreamTranslator): StreamTranslator {
  return {
    push: (event) => translating(() => t.push(event)),
    end: () => translating(() => t.end()),
    get done() {
      return t.done;
    },
  };
}
