/**
 * A TCP forwarder the test controls, in front of a real backend (PostgreSQL, Redis):
 *
 * - `close()` cuts every connection and stops listening (the backend is gone: connections are
 *   refused); `reopen()` listens again on the same port.
 * - `freeze()` stops forwarding in both directions without closing anything, like a network
 *   partition or a `kill -STOP`ped server: bytes, and the ends of connections, wait in the proxy;
 *   new connections are accepted but not forwarded either. `release()` lets everything that
 *   waited through, in order, and forwarding goes on.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections currently open through the proxy (client side). */
  readonly connections: number;
  /** Stops listening and cuts every open connection. */
  close(): Promise<void>;
  /** Listens again on the same port. */
  reopen(): Promise<void>;
  /** Stops forwarding, both directions, without closing a connection. */
  freeze(): void;
  /** Forwards again, starting with what waited during the freeze. */
  release(): void;
  readonly frozen: boolean;
}

interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let server: Server | undefined;
  let port = 0;
  let frozen = false;

  const cut = (pair: Pair): void => {
    pair.client.destroy();
    pair.upstream?.destroy();
    pairs.delete(pair);
  };

  // Forwarding is a pipe in each direction; a freeze unpipes and pauses both sockets, so data
  // (and the end of a stream, which is only emitted once the data before it was read) waits.
  const flow = (pair: Pair): void => {
    const up = pair.upstream;
    if (up === undefined) return;
    pair.client.pipe(up);
    up.pipe(pair.client);
  };
  const stop = (pair: Pair): void => {
    pair.client.unpipe();
    pair.upstream?.unpipe();
    pair.client.pause();
    pair.upstream?.pause();
  };
  const openUpstream = (pair: Pair): void => {
    const up = connect(target.port, target.host);
    pair.upstream = up;
    up.on('error', () => cut(pair));
    up.on('close', () => cut(pair));
    flow(pair);
  };

  const listen = async (): Promise<void> => {
    const s = createServer((client) => {
      const pair: Pair = { client, upstream: undefined };
      pairs.add(pair);
      client.on('error', () => cut(pair));
      client.on('close', () => cut(pair));
      if (frozen) client.pause();
      else openUpstream(pair);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as { port: number }).port;
    server = s;
  };

  await listen();
  return {
    get port() {
      return port;
    },
    get connections() {
      return pairs.size;
    },
    get frozen() {
      return frozen;
    },
    async close() {
      const s = server;
      server = undefined;
      for (const pair of [...pairs]) cut(pair);
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    reopen: listen,
    freeze() {
      if (frozen) return;
      frozen = true;
      for (const pair of pairs) stop(pair);
    },
    release() {
      if (!frozen) return;
      frozen = false;
      for (const pair of pairs) {
        if (pair.upstream === undefined) openUpstream(pair);
        else flow(pair);
      }
    },
  };
}
