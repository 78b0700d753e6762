/**
 * Abandons responses the client stops reading. Backpressure keeps a slow reader from filling
 * memory (a stream waits for `drain`, the provider is held back by TCP), but nothing bounded
 * how long it may wait: a client that reads nothing would hold its connection, its in-flight
 * slot and the provider's connection until the provider gave up. A connection whose socket has
 * data waiting and has flushed nothing for `timeoutMs` is destroyed; the handler sees the
 * close as a client abort and aborts the upstream call. A client that reads slowly but steadily
 * is never cut: only a complete stall counts.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

interface Watched {
  /** Bytes handed to the kernel at the last check that saw progress (or an empty buffer). */
  flushed: number;
  since: number;
}

export function watchWriteStalls(server: Server, timeoutMs: number, now: () => number = Date.now): void {
  const sockets = new Map<Socket, Watched>();
  server.on('request', (req: IncomingMessage, _res: ServerResponse) => {
    const socket = req.socket;
    if (sockets.has(socket)) return;
    sockets.set(socket, { flushed: flushedBytes(socket), since: now() });
    socket.once('close', () => sockets.delete(socket));
  });
  const check = (): void => {
    const t = now();
    for (const [socket, w] of sockets) {
      const flushed = flushedBytes(socket);
      if (socket.writableLength === 0 || flushed !== w.flushed) {
        w.flushed = flushed;
        w.since = t;
      } else if (t - w.since >= timeoutMs) {
        sockets.delete(socket);
        socket.destroy();
      }
    }
  };
  // Checked at a tenth of the timeout (at least every second), so a stall ends within ~1.1×.
  const timer = setInterval(check, Math.max(50, Math.min(1_000, Math.floor(timeoutMs / 10))));
  timer.unref();
  server.once('close', () => clearInterval(timer));
}

function flushedBytes(socket: Socket): number {
  return (socket.bytesWritten ?? 0) - socket.writableLength;
}
