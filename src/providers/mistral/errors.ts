/**
 * Mistral error answers → UpstreamErrorInfo. Mistral's bodies come in several shapes:
 * - `{"object":"error","message":"…","type":"…","param":null,"code":"1300"}` (most errors);
 * - 422 validation: the same envelope with `message: {"detail":[{type,loc,msg,input}]}`, or a
 *   bare FastAPI `{"detail":[…]}`;
 * - gateway answers such as `{"message":"Unauthorized","request_id":"…"}` or
 *   `{"message":"Requests rate limit exceeded"}`;
 * - plain text from a proxy.
 * The detail goes to the log only (bounded); clients never see it.
 */
import type { UpstreamErrorInfo } from '../contract.ts';
import { isRetryableKind, kindForStatus, retryAfterFromHeaders, truncateForLog } from '../openai/errors.ts';
import { isWireObject } from '../openai/wire-check.ts';

interface MistralErrorFields {
  readonly message: string | undefined;
  readonly code: string | undefined;
  readonly type: string | undefined;
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** `loc: msg` per validation problem; `input` is left out because it echoes the request. */
function summariseDetail(detail: unknown): string | undefined {
  if (!Array.isArray(detail)) return undefined;
  return detail
    .map((d) => {
      if (!isWireObject(d)) return 'invalid';
      const loc = Array.isArray(d.loc) ? d.loc.map(String).join('.') : '?';
      return `${loc}: ${text(d.msg) ?? text(d.type) ?? 'invalid'}`;
    })
    .join('; ');
}

export function readMistralErrorBody(body: unknown): MistralErrorFields {
  if (typeof body === 'string') return { message: body, code: undefined, type: undefined };
  if (!isWireObject(body)) return { message: undefined, code: undefined, type: undefined };
  const envelope = isWireObject(body.error) ? body.error : body;
  const rawMessage = envelope.message;
  let message = text(rawMessage);
  if (message === undefined && isWireObject(rawMessage)) message = summariseDetail(rawMessage.detail);
  if (message === undefined && Array.isArray(rawMessage)) message = summariseDetail(rawMessage);
  if (message === undefined) message = summariseDetail(body.detail);
  return { message, code: text(envelope.code), type: text(envelope.type) };
}

export function classifyMistralError(
  status: number,
  headers: Readonly<Record<string, string>>,
  body: unknown,
  now: number = Date.now(),
): UpstreamErrorInfo {
  const fields = readMistralErrorBody(body);
  let kind = kindForStatus(status);
  // "Service tier capacity exceeded for this model" is Mistral being full, not the caller being
  // over its limits, whatever status it arrives with: another target or a later retry can work.
  if (
    status >= 400 &&
    (fields.type === 'service_tier_capacity_exceeded' || /capacity exceeded/i.test(fields.message ?? ''))
  ) {
    kind = 'overloaded';
  }
  return {
    kind,
    status,
    retryable: isRetryableKind(kind, status),
    retryAfterS: retryAfterFromHeaders(headers, now),
    providerCode: fields.code ?? fields.type,
    providerMessage: truncateForLog(fields.message),
  };
}
