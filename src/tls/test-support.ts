/**
 * Test support for TLS: a throwaway PKI written to a temp folder, a TLS-terminating proxy
 * that puts any plain HTTP server (the emulator, a fake provider) behind HTTPS, a raw
 * handshake probe, and a log capture. Everything is generated locally; nothing is downloaded.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  type ConnectionOptions,
  createServer as createTlsServer,
  type TLSSocket,
  connect as tlsConnect,
} from 'node:tls';
import { createLogger, type Logger } from '../observability/logger.ts';
import { type Authority, createAuthority, issueCertificate, type PemPair } from './certificates.ts';

export interface TestPki {
  readonly dir: string;
  readonly ca: Authority;
  /** Server certificate for localhost / 127.0.0.1 / ::1, signed by `ca`. */
  readonly server: PemPair;
  /** Client certificate signed by `ca`. */
  readonly client: PemPair;
  /** A CA and client certificate the gateway does not trust. */
  readonly rogueCa: Authority;
  readonly rogueClient: PemPair;
  readonly paths: { readonly ca: string; readonly cert: string; readonly key: string };
  /** Writes a PEM pair into the folder (key 0600) and returns the paths. */
  write(name: string, pair: PemPair): { cert: string; key: string };
  cleanup(): void;
}

export async function createTestPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'));
  const ca = await createAuthority('Portcullis Test CA');
  const rogueCa = await createAuthority('Rogue CA');
  const [server, client, rogueClient] = await Promise.all([
    issueCertificate(ca, { commonName: 'localhost', hosts: ['localhost', '127.0.0.1', '::1'], usage: 'server' }),
    issueCertificate(ca, { commonName: 'billing-service', usage: 'client' }),
    issueCertificate(rogueCa, { commonName: 'billing-service', usage: 'client' }),
  ]);
  const write = (name: string, pair: PemPair) => {
    const cert = join(dir, `${name}.crt`);
    const key = join(dir, `${name}.key`);
    writeFileSync(cert, pair.cert);
    writeFileSync(key, pair.key, { mode: 0o600 });
    return { cert, key };
  };
  const caPath = join(dir, 'ca.crt');
  writeFileSync(caPath, ca.cert);
  const serverPaths = write('server', server);
  return {
    dir,
    ca,
    server,
    client,
    rogueCa,
    rogueClient,
    write,
    paths: { ca: caPath, cert: serverPaths.cert, key: serverPaths.key },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsProxy {
  /** https://localhost:PORT */
  readonly origin: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Terminates TLS with `pair` and pipes each connection to the plain server at host:port. The
 * port may be a function, read per connection, for targets started after the proxy.
 */
export async function startTlsProxy(
  pair: PemPair,
  targetPort: number | (() => number),
  targetHost = '127.0.0.1',
): Promise<TlsProxy> {
  const sockets = new Set<Socket>();
  const server = createTlsServer({ cert: pair.cert, key: pair.key }, (tlsSocket) => {
    const plain = netConnect(typeof targetPort === 'function' ? targetPort() : targetPort, targetHost);
    sockets.add(tlsSocket).add(plain);
    tlsSocket.pipe(plain).pipe(tlsSocket);
    const end = () => {
      tlsSocket.destroy();
      plain.destroy();
    };
    tlsSocket.on('error', end).on('close', end);
    plain.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `https://localhost:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export type Handshake =
  | { ok: true; protocol: string | null; cipher: string; peerFingerprint: string; socket: TLSSocket }
  | { ok: false; code: string; message: string };

/**
 * Attempts a handshake and, for TLS 1.3 (where the server judges a client certificate after
 * the client thinks it is done), one read: a server that refuses closes or alerts then.
 */
export function probeHandshake(port: number, options: ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', servername: 'localhost', port, ...options });
    let settled = false;
    const fail = (err: NodeJS.ErrnoException | undefined) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ ok: false, code: err?.code ?? 'CLOSED', message: err?.message ?? 'connection closed by the server' });
    };
    socket.once('error', fail);
    socket.once('close', () => fail(undefined));
    socket.once('secureConnect', () => {
      // A request the server must answer proves the connection is really usable.
      socket.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n');
      socket.once('data', () => {
        if (settled) return;
        settled = true;
        const result: Handshake = {
          ok: true,
          protocol: socket.getProtocol(),
          cipher: socket.getCipher().name,
          peerFingerprint: socket.getPeerCertificate().fingerprint256,
          socket,
        };
        socket.removeAllListeners('close');
        socket.destroy();
        resolve(result);
      });
    });
  });
}

/** A logger whose lines are kept as parsed objects. */
export function captureLogger(): {
  log: Logger;
  lines: Record<string, unknown>[];
  waitFor(pred: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
} {
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const log = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _enc, cb) {
        for (const line of String(chunk).split('\n'))
          if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
        for (const w of waiters.splice(0)) w();
        cb();
      },
    }),
  });
  const waitFor = (pred: (l: Record<string, unknown>) => boolean, ms = 5_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`no matching log line within ${ms} ms:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`)),
        ms,
      );
      const check = () => {
        const hit = lines.find(pred);
        if (hit !== undefined) {
          clearTimeout(timer);
          resolve(hit);
        } else waiters.push(check);
      };
      check();
    });
  return { log, lines, waitFor };
}
