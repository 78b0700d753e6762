/**
 * Reads a request body into memory with a hard size cap. A declared Content-Length over the
 * cap is refused before a byte is read; a chunked body is counted as it arrives and refused
 * the moment it passes the cap.
 */
import type { IncomingMessage } from 'node:http';
import { gatewayError } from '../errors/gateway-error.ts';

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(
      gatewayError('request.too_large', { params: { limit: maxBytes }, headers: { connection: 'close' } }),
    );
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err: Error | undefined, value?: Buffer) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err) reject(err);
      else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop buffering; the response carries `Connection: close` so the rest is not read.
        req.pause();
        finish(gatewayError('request.too_large', { params: { limit: maxBytes }, headers: { connection: 'close' } }));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const onError = (err: Error) => finish(err);
    const onClose = () => {
      if (!req.complete) finish(new Error('client closed the connection while sending the body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
