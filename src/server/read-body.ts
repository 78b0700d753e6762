/**
 * Reads a request body into memory with a hard size cap. A declared Content-Length over the
 * cap is refused before a byte is read; a chunked body is counted as it arrives and refused
 * the moment it passes the cap.
 */
import type { IncomingMessage } from 'node:http';
import { collectCapped } from '../core/collect-capped.ts';
import { gatewayError } from '../errors/gateway-error.ts';

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = () =>
    gatewayError('request.too_large', { params: { limit: maxBytes }, headers: { connection: 'close' } });
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge());
  return collectCapped(req, maxBytes, {
    tooLarge,
    // Stop buffering; the response carries `Connection: close` so the rest is not read.
    abandon: () => req.pause(),
    closedEarly: () => (req.complete ? undefined : new Error('client closed the connection while sending the body')),
  });
}
