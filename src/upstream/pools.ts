/**
 * One keep-alive connection pool per provider, built once at startup, so every request to a
 * provider reuses warm connections and the per-provider `maxConnections` bounds its fan-out.
 */
import { Agent } from 'undici';
import type { ProviderConfig } from '../config/types.ts';
import { upstreamTlsOptions } from '../tls/upstream-verify.ts';
import { createGuardedConnector } from './address-guard.ts';

export interface ProviderPools {
  get(providerId: string): Agent | undefined;
  close(): Promise<void>;
}

export function createProviderPools(providers: ReadonlyMap<string, ProviderConfig>): ProviderPools {
  const pools = new Map<string, Agent>();
  for (const [id, cfg] of providers) {
    pools.set(id, new Agent({
      connections: cfg.maxConnections,
      // Pipelining would let one slow generation hold up the requests queued behind it.
      pipelining: 1,
      connect: createGuardedConnector(cfg, upstreamTlsOptions(cfg)),
      // Deadlines are enforced by upstream/ with its own signals; undici's own timers would
      // race them and report the same event as a different error.
      headersTimeout: 0,
      bodyTimeout: 0,
    }));
  }
  return {
    get: (id) => pools.get(id),
    async close() {
      await Promise.all([...pools.values()].map((p) => p.close()));
    },
  };
}
