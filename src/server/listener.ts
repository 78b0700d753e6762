/**
 * The HTTP listener and its shutdown. Timeouts are set from config so a slow client
 * (slowloris) cannot hold a connection open by dribbling headers or body, nor by not reading
 * its response (write-stall.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { type Logger, silentLogger } from '../observability/logger.ts';
import { createHttpsListener } from '../tls/https-listener.ts';
import type { ServerConfig } from './config-types.ts';
import type { Lifecycle } from './handler.ts';
import { NeutralServerResponse } from './neutral-response.ts';
import { watchWriteStalls } from './write-stall.ts';

/** Larger headers than this are refused by Node with 431 before any of our code runs. */
export const MAX_HEADER_BYTES = 16 * 1024;

export function createListener(
  cfg: ServerConfig,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  log: Logger = silentLogger(),
): Server {
  const options: ServerOptions = {
    requestTimeout: cfg.requestTimeoutMs,
    headersTimeout: Math.min(cfg.headersTimeoutMs, cfg.requestTimeoutMs),
    keepAliveTimeout: cfg.keepAliveTimeoutMs,
    // Node enforces the header and request deadlines only when this timer runs (default every
    // 30 s, so a 10 s headers timeout could take 40 s); a tenth of the shorter one, at most 1 s.
    connectionsCheckingInterval: Math.max(
      50,
      Math.min(1_000, Math.floor(Math.min(cfg.headersTimeoutMs, cfg.requestTimeoutMs) / 10)),
    ),
    maxHeaderSize: MAX_HEADER_BYTES,
    // Request smuggling defence: refuse requests with both Content-Length and Transfer-Encoding.
    insecureHTTPParser: false,
    requireHostHeader: true,
    // server.hide_product_name: every response of this listener is written without the product's name.
    ...(cfg.hideProductName === true ? { ServerResponse: NeutralServerResponse } : {}),
  };
  // With server.tls the same options serve HTTPS (src/tls/): TLS 1.3, HSTS, mTLS, hot reload.
  const server: Server =
    cfg.tls === undefined ? createServer(options, handler) : createHttpsListener(cfg.tls, options, handler, log).server;
  // A response that outlives its request's socket (long streams) is bounded by upstream deadlines.
  server.timeout = 0;
  server.maxConnections = cfg.maxConnections;
  server.maxRequestsPerSocket = cfg.maxRequestsPerSocket;
  watchWriteStalls(server, cfg.writeStallTimeoutMs);
  return server;
}

export function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address() as AddressInfo;
      const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve(`${server instanceof TlsServer ? 'https' : 'http'}://${h}:${addr.port}`);
    });
  });
}

/**
 * Stops accepting, lets in-flight requests finish for up to `graceMs`, then aborts what is
 * left and closes every connection. Resolves with how many requests had to be aborted.
 */
export async function drain(server: Server, lifecycle: Lifecycle, graceMs: number): Promise<number> {
  lifecycle.draining = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const deadline = Date.now() + graceMs;
  while (lifecycle.inFlight.size > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    server.closeIdleConnections();
  }
  const aborted = lifecycle.inFlight.size;
  for (const c of lifecycle.inFlight) c.abort(new Error('gateway shutting down'));
  server.closeAllConnections();
  await closed;
  return aborted;
}
