/**
 * Writes responses and errors in the client's API dialect. Errors always come from the
 * catalogue (GatewayError); anything else is logged and becomes `internal.error`, so no stack
 * trace, upstream body or secret can reach a client.
 */
import type { ServerResponse } from 'node:http';
import type { Surface } from '../core/context.ts';
import { type GatewayError, gatewayError, isGatewayError } from '../errors/gateway-error.ts';
import { messagesErrorBody } from '../surfaces/anthropic/index.ts';
import { openAiErrorBody } from '../surfaces/openai/render.ts';

const BASE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

export function toGatewayError(err: unknown, requestId: string): GatewayError {
  if (isGatewayError(err)) return err;
  return gatewayError('internal.error', { params: { requestId }, cause: err });
}

export function errorBody(surface: Surface, err: GatewayError): unknown {
  return surface === 'anthropic' ? messagesErrorBody(err) : openAiErrorBody(err);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
  extra?: Readonly<Record<string, string>>,
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...BASE_HEADERS,
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestId,
    ...extra,
  });
  res.end(payload);
}

export function sendError(res: ServerResponse, surface: Surface, err: GatewayError, requestId: string): void {
  const headers: Record<string, string> = { 'x-portcullis-error-code': err.code, ...err.headers };
  if (err.retryAfterS !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterS)));
  // RFC 6750 §3.1: a presented but refused access token gets error="invalid_token".
  if (err.status === 401 && surface === 'openai') {
    headers['www-authenticate'] =
      err.code === 'auth.invalid_token'
        ? 'Bearer realm="portcullis", error="invalid_token"'
        : 'Bearer realm="portcullis"';
  }
  sendJson(res, err.status, errorBody(surface, err), requestId, headers);
}

/** Headers for a server-sent-event stream. */
export function sseHeaders(requestId: string): Record<string, string> {
  return {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-store',
    'x-content-type-options': 'nosniff',
    // Tell buffering reverse proxies (nginx) to pass events through as they come.
    'x-accel-buffering': 'no',
    'x-request-id': requestId,
  };
}

/**
 * Writes and waits for the socket to accept more when its buffer is full (backpressure).
 * Resolves false when the client has gone away.
 */
export function writeWithBackpressure(res: ServerResponse, data: string): Promise<boolean> | boolean {
  if (res.destroyed || res.writableEnded) return false;
  if (res.write(data)) return true;
  return new Promise<boolean>((resolve) => {
    const onDrain = () => {
      cleanup();
      resolve(true);
    };
    const onClose = () => {
      cleanup();
      resolve(false);
    };
    const cleanup = () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
    };
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
