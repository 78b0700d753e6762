/** What the OAuth endpoints (token, introspection, revocation) share; apart so they need not import the server that routes to them. */
import type { Store } from '../../store/store.ts';
import type { Lockout } from '../lockout.ts';
import type { OAuthServerConfig } from './config-types.ts';
import type { SigningKeyRing } from './signing-keys.ts';

export interface OAuthEndpointDeps {
  readonly store: Store;
  readonly ring: SigningKeyRing;
  readonly config: OAuthServerConfig;
  /** `security.key_hash_secret` (client secrets are keyed hashes under it). */
  readonly serverSecret: Buffer;
  readonly now: () => Date;
  readonly lockout?: Lockout;
}
