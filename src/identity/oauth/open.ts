/**
 * Starts the built-in authorization server for a gateway (`oauth_server.enabled`): opens the
 * envelope (signing keys are encrypted at rest), makes the first signing key when there is
 * none, proves the current key decrypts (a wrong master key stops the start, not the first
 * token request), and returns the HTTP endpoints plus the local issuer the resource-server
 * verifier trusts. A timer purges expired revocations and assertion jtis.
 */

import type { GatewayConfig } from '../../config/types.ts';
import type { EnvelopeSource } from '../../crypto/open.ts';
import type { SecurityEventSink } from '../../events/security-events.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Store } from '../../store/store.ts';
import type { LocalIssuer } from '../jwt/verifier.ts';
import type { Lockout } from '../lockout.ts';
import { ownLocalIssuer } from './access-tokens.ts';
import { createOAuthEndpoints, type ExtraEndpoints } from './oauth-server.ts';
import { createSigningKeyRing, ensureSigningKey } from './signing-keys.ts';

const PURGE_INTERVAL_MS = 10 * 60_000;

export interface OAuthServerRuntime {
  readonly endpoints: ExtraEndpoints;
  readonly localIssuer: LocalIssuer;
  /** Stops the maintenance timer. */
  close(): void;
}

export interface OpenOAuthServerDeps {
  readonly store: Store;
  /** The gateway's envelope (signing keys are sealed with it). */
  readonly envelopes: EnvelopeSource;
  readonly serverSecret: Buffer;
  readonly log: Logger;
  readonly events?: SecurityEventSink;
  readonly lockout?: Lockout;
}

export async function openOAuthServer(
  config: GatewayConfig,
  deps: OpenOAuthServerDeps,
): Promise<OAuthServerRuntime | undefined> {
  const cfg = config.oauthServer;
  if (cfg === undefined) return undefined;
  const { store, log } = deps;
  const envelope = await deps.envelopes.get();
  const created = await ensureSigningKey(store, envelope, cfg.signingAlgorithm);
  if (created !== undefined)
    log.info({ event: 'oauth.signing_key_created', kid: created }, 'created the first OAuth signing key');
  const ring = createSigningKeyRing({ store, envelope, refreshIntervalMs: cfg.keyRefreshIntervalS * 1000 });
  await ring.refresh();
  const purge = setInterval(() => {
    store.purgeExpiredOAuthRecords(new Date().toISOString()).catch((err: unknown) => {
      log.warn(
        { event: 'oauth.purge_failed', error: (err as Error).message },
        'could not purge expired OAuth revocations',
      );
    });
  }, PURGE_INTERVAL_MS);
  purge.unref();
  log.info(
    { event: 'oauth.ready', issuer: cfg.issuer, kid: (await ring.current()).kid },
    'OAuth authorization server ready',
  );
  return {
    endpoints: createOAuthEndpoints({
      store,
      ring,
      config: cfg,
      serverSecret: deps.serverSecret,
      now: () => new Date(),
      log,
      ...(deps.events !== undefined ? { events: deps.events } : {}),
      ...(deps.lockout !== undefined ? { lockout: deps.lockout } : {}),
    }),
    localIssuer: ownLocalIssuer(cfg, ring, store),
    close: () => clearInterval(purge),
  };
}
