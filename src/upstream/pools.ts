/**
 * One keep-alive connection pool per provider, built once at startup, so every request to a
 * provider reuses warm connections and the per-provider `maxConnections` bounds its fan-out.
 */
import { Agent, type buildConnector } from 'undici';
import type { ProviderConfig } from '../providers/config-types.ts';
import { upstreamTlsOptions } from '../tls/upstream-verify.ts';
import { createGuardedConnector } from './address-guard.ts';

export interface ProviderPools {
  get(providerId: string): Agent | undefined;
  close(): Promise<void>;
}

export function createProviderPools(providers: ReadonlyMap<string, ProviderConfig>): ProviderPools {
  const pools = new Map<string, Agent>();
  for (const [id, cfg] of providers) {
    pools.set(
      id,
      new Agent({
        connections: cfg.maxConnections,
        // Pipelining would let one slow generation hold up the requests queued behind it.
        pipelining: 1,
        connect: closeConnectionsLeftUnused(createGuardedConnector(cfg, upstreamTlsOptions(cfg))),
        // Deadlines are enforced by upstream/ with its own signals; undici's own timers would
        // race them and report the same event as a different error.
        headersTimeout: 0,
        bodyTimeout: 0,
      }),
    );
  }
  return {
    get: (id) => pools.get(id),
    async close() {
      await Promise.all([...pools.values()].map((p) => p.close()));
    },
  };
}

/**
 * Closes a new connection that no request was written to. undici (7.x, nodejs/undici#5845,
 * and #386 for a request aborted while its connection was being opened) opens a connection
 * for a request that was already aborted and then drops the request, leaving a socket nobody
 * asked for. It idles under the keep-alive time the provider last advertised (often
 * `Keep-Alive: timeout=300`, five minutes), so every stream the gateway gives up on would
 * leave one such socket to the provider and hold one of its `max_connections`.
 *
 * undici hands the socket to its client inside this callback and writes the request's head
 * synchronously (or a microtask later for a request waiting in the pool), so by the next
 * macrotask a connection in use has bytes written; one with none was opened for nothing.
 * Closing an idle connection is routine for undici (servers do it all the time).
 */
export function closeConnectionsLeftUnused(connect: buildConnector.connector): buildConnector.connector {
  return (options, callback) => {
    connect(options, (err, socket) => {
      // undici's connector callback is typed as two overloads; forward exactly what came in.
      (callback as (e: Error | null, s: typeof socket) => void)(err, socket);
      if (err !== null || socket === null) return;
      setImmediate(() => {
        if (!socket.destroyed && socket.bytesWritten === 0) socket.destroy();
      });
    });
  };
}
