/** Gateway errors in Anthropic's error shape, for responses and for `event: error` mid-stream. */
import { errorSpec } from '../../errors/codes.ts';
import type { GatewayError } from '../../errors/gateway-error.ts';

export interface MessagesErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

export function messagesErrorBody(err: GatewayError): MessagesErrorBody {
  return { type: 'error', error: { type: errorSpec(err.code).anthropicType, message: err.publicMessage } };
}

export function messagesStreamErrorEvent(err: GatewayError): { event: 'error'; data: MessagesErrorBody } {
  return { event: 'error', data: messagesErrorBody(err) };
}
