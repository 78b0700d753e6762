/** API key records as the store keeps them; apart from store.ts so the tenancy contract can name them without a cycle. */

export interface ApiKeyRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly label: string;
  /** Non-secret display prefix (e.g. `pcl_3fK9`), for listings and logs. */
  readonly prefix: string;
  /** Hex HMAC-SHA-256 of the full key under the server secret. The key itself is never stored. */
  readonly hash: string;
  readonly allowedModels: readonly string[];
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
  /** The team the key belongs to (null: tenant-wide, and keys made before teams existed). */
  readonly teamId: string | null;
  /** The admin user who owns the key (developers manage only their own keys). */
  readonly ownerUserId: string | null;
  /** Who made it: an admin user id, or `cli:<os user>` (null for keys made before this was kept). */
  readonly createdBy: string | null;
  /**
   * Key policy (virtual key hardening). Optional so records built elsewhere still type-check; the
   * store always returns them filled in. Source CIDRs the key may be used from ([] or absent: anywhere).
   */
  readonly ipAllowlist?: readonly string[];
  /** Endpoints the key may call (null or absent: all of them). */
  readonly allowedEndpoints?: readonly KeyEndpoint[] | null;
  /** Only the models listing; every other endpoint is refused. */
  readonly readOnly?: boolean;
  /** The key this one replaced by rotation. */
  readonly rotatedFrom?: string | null;
  /**
   * mTLS binding (`keys create --cert-sha256`): the key is accepted only over a connection whose
   * verified client certificate has this SHA-256 fingerprint (colon-separated upper-case hex).
   * Absent when unbound (the store leaves it out rather than returning null).
   */
  readonly clientCertSha256?: string | null;
}

/** What an API key may be scoped to: OpenAI chat completions, embeddings, the models listing, Anthropic messages. */
export const KEY_ENDPOINTS = ['chat', 'embeddings', 'models', 'messages'] as const;
export type KeyEndpoint = (typeof KEY_ENDPOINTS)[number];

/** A rotation, applied atomically: the replacement is inserted and the old key set to expire at `oldExpiresAt` (or earlier, if it already would). */
export interface ApiKeyRotation {
  readonly oldId: string;
  readonly oldExpiresAt: string;
  readonly replacement: ApiKeyRecord;
}
