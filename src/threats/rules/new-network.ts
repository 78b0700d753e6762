/**
 * New network: a key with an established history shows up from an IPv4 /24 or IPv6 /48 it has
 * not used within `history_s` — often a leaked key used from somewhere else. A key's first
 * `min_history_requests` requests only build its history.
 */
import { BoundedMap } from '../../core/bounded-map.ts';
import type { NewNetworkRule } from '../config-types.ts';
import { networkOf } from '../network-of.ts';
import { NO_DETECTIONS, type RequestObservation, type ThreatRule } from '../types.ts';

interface History {
  requests: number;
  /** Most requests come from the address the key used last: those skip the network lookup. */
  lastIp: string;
  lastSeenAt: number;
  readonly networks: Map<string, number>;
}

/** A repeat of the last address within this long does not refresh its network's last-seen time. */
const REFRESH_MS = 60_000;

export function createNewNetworkRule(cfg: NewNetworkRule, maxSubjects: number): ThreatRule {
  const historyMs = cfg.historyS * 1000;
  const byKey = new BoundedMap<string, History>(maxSubjects);
  return {
    name: 'new_network',
    suppressS: 0,
    onRequest(obs: RequestObservation) {
      const h = byKey.upsert(obs.keyId, () => ({ requests: 0, lastIp: '', lastSeenAt: 0, networks: new Map() }));
      h.requests += 1;
      if (obs.ip === h.lastIp && obs.at - h.lastSeenAt < REFRESH_MS && obs.at >= h.lastSeenAt) return NO_DETECTIONS;
      const net = networkOf(obs.ip);
      if (net === undefined) return NO_DETECTIONS;
      h.lastIp = obs.ip;
      h.lastSeenAt = obs.at;
      const lastSeen = h.networks.get(net);
      if (lastSeen !== undefined && obs.at - lastSeen < historyMs) {
        h.networks.set(net, obs.at);
        return NO_DETECTIONS;
      }
      const established = h.requests > cfg.minHistoryRequests && h.networks.size > 0;
      h.networks.delete(net);
      h.networks.set(net, obs.at); // Map order is insertion order: the first entry is the least recent.
      if (h.networks.size > cfg.maxNetworksPerKey) h.networks.delete(h.networks.keys().next().value!);
      if (!established) return NO_DETECTIONS;
      return [
        {
          subject: `key:${obs.keyId}`,
          tenantId: obs.tenantId,
          keyId: obs.keyId,
          keyPrefix: obs.keyPrefix,
          sourceIp: obs.ip,
          requestId: obs.requestId,
          detail: { network: net, known_networks: h.networks.size - 1 },
        },
      ];
    },
  };
}
