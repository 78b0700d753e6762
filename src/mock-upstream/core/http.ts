/** Small HTTP helpers shared by every emulated provider. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Real providers cap request bodies at about 32 MB; so does the emulator. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface ErrorReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The error with its human-readable message replaced, wherever the provider's shape keeps it:
 * `error.message` (OpenAI, Anthropic, Gemini), `message` (Mistral) or a string `detail`.
 */
export function withErrorMessage(reply: ErrorReply, message: string): ErrorReply {
  const body = reply.body as Record<string, unknown> | null;
  if (body === null || typeof body !== 'object') return reply;
  const error = body['error'];
  if (
    error !== null &&
    typeof error === 'object' &&
    typeof (error as Record<string, unknown>)['message'] === 'string'
  ) {
    return { ...reply, body: { ...body, error: { ...(error as Record<string, unknown>), message } } };
  }
  if (typeof body['message'] === 'string') return { ...reply, body: { ...body, message } };
  return { ...reply, body: { ...body, detail: message } };
}

export type BodyResult =
  | { readonly kind: 'empty' }
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'too-large' };

export async function readJsonBody(req: IncomingMessage): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { kind: 'too-large' };
    chunks.push(chunk);
  }
  if (size === 0) return { kind: 'empty' };
  try {
    return { kind: 'json', value: JSON.parse(Buffer.concat(chunks, size).toString('utf8')) };
  } catch {
    return { kind: 'malformed' };
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Readonly<Record<string, string>>,
  contentType = 'application/json',
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, reply: ErrorReply): void {
  sendJson(res, reply.status, reply.body, reply.headers);
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. Never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Writes a chunk, waiting for 'drain' when the socket buffer is full. False when the client is gone. */
export async function writeWithBackpressure(res: ServerResponse, chunk: string, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted || res.destroyed) return false;
  if (res.write(chunk)) return true;
  return new Promise((resolve) => {
    const done = (ok: boolean) => (): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      signal.removeEventListener('abort', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
    signal.addEventListener('abort', onClose, { once: true });
  });
}

/** Waits until everything written so far has left the process, then destroys the socket. */
export function breakConnection(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const socket = res.socket;
    const destroy = (): void => {
      socket?.destroy();
      res.destroy();
      resolve();
    };
    if (res.destroyed || socket === null || !res.headersSent) {
      destroy();
      return;
    }
    // http uncorks on the next tick; only then is writableLength the true backlog
    setImmediate(() => {
      if (socket.writableLength === 0) destroy();
      else socket.once('drain', destroy);
    });
  });
}
