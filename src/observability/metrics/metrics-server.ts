/**
 * The metrics listener: a separate HTTP server that serves only `GET /metrics`, so metrics
 * never share the public port. It binds to localhost unless configured otherwise, and checks a
 * bearer token when one is set.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { listen } from '../../server/listener.ts';
import type { Logger } from '../logger.ts';
import { createBearerCheck } from './bearer.ts';
import type { MetricsConfig } from './config-types.ts';
import type { GatewayMetrics } from './gateway-metrics.ts';

export interface MetricsServer {
  readonly server: Server;
  /** Resolves with the base URL (`http://host:port`). */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  readonly config: Pick<MetricsConfig, 'host' | 'port' | 'bearerToken'>;
  readonly metrics: Pick<GatewayMetrics, 'scrape'>;
  readonly log: Logger;
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res
    .writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers })
    .end(`${text}\n`);
}

export function createMetricsServer(opts: MetricsServerOptions): MetricsServer {
  const { config, metrics, log } = opts;
  const authorized = config.bearerToken === undefined ? () => true : createBearerCheck(config.bearerToken);
  const server = createServer(
    {
      requestTimeout: 10_000,
      headersTimeout: 5_000,
      keepAliveTimeout: 5_000,
      maxHeaderSize: 16 * 1024,
      requireHostHeader: true,
    },
    (req, res) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      if (path !== '/metrics') return plain(res, 404, 'not found');
      if (req.method !== 'GET') return plain(res, 405, 'method not allowed', { allow: 'GET' });
      if (!authorized(req.headers.authorization)) {
        log.warn(
          { event: 'metrics.unauthorized', remoteAddress: req.socket.remoteAddress },
          'metrics scrape refused: bad or missing bearer token',
        );
        return plain(res, 401, 'unauthorized', { 'www-authenticate': 'Bearer realm="metrics"' });
      }
      metrics.scrape().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
        },
        (err: unknown) => {
          log.error({ err }, 'metrics scrape failed');
          if (!res.headersSent) plain(res, 500, 'metrics unavailable');
          else res.destroy();
        },
      );
    },
  );

  let closing: Promise<void> | undefined;
  return {
    server,
    listen: () => listen(server, config.host, config.port),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
