/**
 * The API key verifier of one gateway process and, when a shared Redis is configured, its
 * subscription to revocation broadcasts (identity/revocation-broadcast.ts). While that
 * subscription is down the verifier does not trust its cache (fail safe); with no Redis at all
 * the cache TTL (1 s) is what bounds how long another process's revocation takes to show.
 * The same subscription carries tenant shreds, which wipe the tenant's cached data keys.
 */
import type { GatewayConfig } from '../config/types.ts';
import type { EnvelopeSource } from '../crypto/open.ts';
import { createKeyVerifier, type KeyVerifier } from '../identity/key-verifier.ts';
import {
  createRevocationListener,
  publishKeyRevocation,
  type RevocationListener,
} from '../identity/revocation-broadcast.ts';
import type { Logger } from '../observability/logger.ts';
import type { Store } from '../store/store.ts';

export interface KeyVerification {
  readonly verifier: KeyVerifier;
  /** Undefined without a shared Redis. */
  readonly listener: RevocationListener | undefined;
  /**
   * For revocations made inside this process (admin API): evicts the key here and broadcasts it
   * to every other instance. Call after the store change. Never throws.
   */
  announceRevocation(keyId: string): Promise<void>;
  close(): Promise<void>;
}

export function openKeyVerification(
  config: GatewayConfig,
  store: Store,
  secret: Buffer,
  log: Logger,
  envelopes: EnvelopeSource,
): KeyVerification {
  let listener: RevocationListener | undefined;
  const verifier = createKeyVerifier({
    store,
    secret,
    ...(config.redis === undefined ? {} : { cacheUsable: () => listener?.isSubscribed() ?? false }),
  });
  if (config.redis !== undefined) {
    listener = createRevocationListener({
      redis: config.redis,
      log,
      onRevoked: (keyId) => verifier.invalidate(keyId),
      onResubscribed: () => verifier.invalidate(),
      // A tenant shredded by another process: drop its cached data keys now, not after their TTL.
      onTenantShredded: (tenantId) => {
        void envelopes.forgetTenant(tenantId).then((open) => {
          if (open)
            log.info(
              { event: 'crypto.tenant_keys_forgotten', tenant: tenantId },
              'tenant shredded elsewhere: its cached data keys were wiped',
            );
        });
      },
    });
  }
  return {
    verifier,
    listener,
    async announceRevocation(keyId) {
      verifier.invalidate(keyId);
      await publishKeyRevocation(config.redis, keyId, log);
    },
    close: async () => {
      await listener?.close();
    },
  };
}
