/**
 * The HTTPS variant of the listener: TLS options from server-options.ts, HSTS on every
 * response, client-certificate enforcement for `client_auth: optional`, handshake failures
 * in the log, and certificate hot reload while the server listens.
 */

import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../observability/logger.ts';
import { type CertReloader, createCertReloader } from './cert-reloader.ts';
import { hasPeerCertificate } from './client-cert.ts';
import type { ServerTlsConfig } from './config-types.ts';
import { hstsHeaderValue, loadSecureContextOptions, serverTlsOptions } from './server-options.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Handshake failures that are about the client's certificate, not noise from scanners. */
const CERT_FAILURE = /certificate|CERT|unknown ca|UNABLE_TO|SELF_SIGNED/;

export interface HttpsListener {
  readonly server: HttpsServer;
  /** Undefined when `reload: false`; exists while the server listens. */
  reloader(): CertReloader | undefined;
}

/** Throws at startup when the certificate, key or client CA cannot be used. */
export function createHttpsListener(
  cfg: ServerTlsConfig,
  http: ServerOptions,
  handler: Handler,
  log: Logger,
): HttpsListener {
  const loaded = loadSecureContextOptions(cfg);
  const hsts = hstsHeaderValue(cfg);
  const withHsts: Handler =
    hsts === undefined
      ? handler
      : (req, res) => {
          res.setHeader('strict-transport-security', hsts);
          handler(req, res);
        };
  const server = createHttpsServer({ ...http, ...serverTlsOptions(cfg, loaded) }, withHsts);

  if (cfg.clientAuth === 'optional') {
    server.on('secureConnection', (socket: TLSSocket) => {
      // Optional means "no certificate is fine", never "a bad certificate is fine".
      if (!socket.authorized && hasPeerCertificate(socket)) {
        log.warn(
          {
            event: 'security.tls_client_cert_refused',
            remoteAddress: socket.remoteAddress,
            reason: String(socket.authorizationError),
          },
          'refused a TLS client certificate',
        );
        socket.destroy();
      }
    });
  }
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const fields = {
      event: 'security.tls_handshake_refused',
      remoteAddress: socket.remoteAddress,
      code: err.code,
      reason: err.message,
    };
    if (cfg.clientAuth !== 'none' && CERT_FAILURE.test(`${err.code ?? ''} ${err.message}`))
      log.warn(fields, 'refused a TLS client certificate');
    else log.debug(fields, 'TLS handshake refused');
  });

  let reloader: CertReloader | undefined;
  if (cfg.reload) {
    server.on('listening', () => {
      reloader ??= createCertReloader({ server, cfg, log, initialFingerprint: loaded.pair.fingerprint256 });
    });
    server.on('close', () => {
      reloader?.close();
      reloader = undefined;
    });
  }
  return { server, reloader: () => reloader };
}
