/**
 * Wire details shared by the OAuth endpoints: strict form bodies (RFC 6749 §3.2: parameters
 * once each, form-encoded, never in the URL), JSON responses that are never cached, and errors
 * as RFC 6749 §5.2 bodies built from the catalogue (`oauth.invalid_client` → `invalid_client`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type GatewayError, gatewayError, isGatewayError } from '../../errors/gateway-error.ts';
import { readBody } from '../../server/read-body.ts';

/** Assertions are capped at 8 KiB; nothing else on these endpoints is large. */
export const MAX_FORM_BYTES = 32 * 1024;
const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export type Form = ReadonlyMap<string, string>;

export function invalidRequest(detail: string): GatewayError {
  return gatewayError('oauth.invalid_request', { params: { detail } });
}

/** Reads the form body; refuses another media type, a query string, a repeated parameter, bad UTF-8. */
export async function readForm(req: IncomingMessage, rawUrl: string): Promise<Form> {
  if (rawUrl.includes('?')) throw invalidRequest('parameters must be sent in the request body, not the URL');
  const type = req.headers['content-type'];
  if (type === undefined || !FORM_TYPE.test(type))
    throw invalidRequest('the body must be application/x-www-form-urlencoded');
  const body = await readBody(req, MAX_FORM_BYTES);
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    throw invalidRequest('the body is not valid UTF-8');
  }
  const form = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (form.has(name)) throw invalidRequest(`parameter ${bounded(name)} is repeated`);
    // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
    form.set(name, value);
  }
  for (const [name, value] of form) if (value === '') form.delete(name);
  return form;
}

const BASE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  // RFC 6749 §5.1: responses with tokens or credentials must not be cached.
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-content-type-options': 'nosniff',
} as const;

export function sendOAuthJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
  extra: Record<string, string> = {},
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

/** RFC 6749 §5.2 error body; anything not from the oauth catalogue becomes server_error / temporarily_unavailable. */
export function sendOAuthError(res: ServerResponse, err: unknown, requestId: string): { status: number; code: string } {
  const gerr = isGatewayError(err) ? err : gatewayError('internal.error', { params: { requestId }, cause: err });
  const headers: Record<string, string> = { 'x-portcullis-error-code': gerr.code, ...gerr.headers };
  if (gerr.retryAfterS !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(gerr.retryAfterS)));
  let error: string;
  if (gerr.code.startsWith('oauth.') && gerr.code !== 'oauth.too_many_failures')
    error = gerr.code.slice('oauth.'.length);
  else if (gerr.code === 'oauth.too_many_failures') error = 'invalid_client';
  else if (gerr.status < 500)
    error = 'invalid_request'; // e.g. request.too_large, request.method_not_allowed
  else error = gerr.status === 503 ? 'temporarily_unavailable' : 'server_error';
  if (gerr.code === 'oauth.invalid_client') headers['www-authenticate'] = 'Basic realm="portcullis", charset="UTF-8"';
  sendOAuthJson(res, gerr.status, { error, error_description: gerr.publicMessage }, requestId, headers);
  return { status: gerr.status, code: gerr.code };
}

export function bounded(s: string, max = 64): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
