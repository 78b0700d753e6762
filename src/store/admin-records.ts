/**
 * The admin-identity part of the Store contract: admin users, their sessions, their API tokens
 * and their one-time recovery codes. `Store` extends `AdminStore`; both backends implement it
 * (sqlite/admin-methods.ts, postgres/admin-methods.ts) and admin-contract.ts tests it.
 * Secrets never reach the store in the clear: passwords are scrypt hashes, session ids,
 * tokens and recovery codes are keyed hashes, TOTP secrets are envelope-encrypted.
 */

export interface AdminUserRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly teamId: string | null;
  /** Lower-cased; unique across the whole store (login names no tenant). */
  readonly email: string;
  /** One of ADMIN_ROLES (src/admin/types.ts). */
  readonly role: string;
  /** `scrypt$N$r$p$salt$hash` (see src/identity/admin/password.ts); null until the user enrols. */
  readonly passwordHash: string | null;
  /** Base64 envelope ciphertext of the TOTP secret (binding admin_users/<id>/totp_secret); null: MFA not set up. */
  readonly totpSecret: string | null;
  /** Last accepted TOTP time step (each step is accepted once); 0 when none. */
  readonly totpLastStep: number;
  /** Keyed hash of the one-time enrolment token, while one is outstanding. */
  readonly enrolmentHash: string | null;
  readonly enrolmentExpiresAt: string | null;
  readonly createdAt: string;
  readonly disabledAt: string | null;
}

/** Fields that may change after creation. Absent: unchanged. */
export interface AdminUserPatch {
  readonly role?: string;
  readonly teamId?: string | null;
  readonly passwordHash?: string | null;
  readonly totpSecret?: string | null;
  /** Set together with a new secret (a reset starts counting again). */
  readonly totpLastStep?: number;
  readonly enrolmentHash?: string | null;
  readonly enrolmentExpiresAt?: string | null;
  readonly disabledAt?: string | null;
}

export interface AdminSessionRecord {
  /** Keyed hash of the session id (the cookie value is never stored). */
  readonly idHash: string;
  readonly userId: string;
  readonly tenantId: string;
  /** Epoch milliseconds: the absolute timeout counts from here. */
  readonly createdMs: number;
  /** Epoch milliseconds of the last authenticated request: the idle timeout counts from here. */
  readonly lastSeenMs: number;
}

export interface AdminTokenRecord {
  readonly id: string;
  readonly userId: string;
  readonly tenantId: string;
  readonly label: string;
  /** Non-secret display prefix (`pca_` + 8). */
  readonly prefix: string;
  /** Hex HMAC-SHA-256 of the full token under the server secret. */
  readonly hash: string;
  /** The actions this token may perform (a subset of its user's role); null: everything the role allows. */
  readonly actions: readonly string[] | null;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
}

export interface AdminStore {
  /** Rejects with StoreConflictError when the id or email already exists. */
  insertAdminUser(user: AdminUserRecord): Promise<void>;
  getAdminUser(id: string): Promise<AdminUserRecord | undefined>;
  /** `email` is compared as given; callers lower-case it. */
  findAdminUserByEmail(email: string): Promise<AdminUserRecord | undefined>;
  findAdminUserByEnrolmentHash(hash: string): Promise<AdminUserRecord | undefined>;
  /** Ordered by creation time, then id. */
  listAdminUsers(query: { readonly tenantId?: string; readonly teamId?: string }): Promise<AdminUserRecord[]>;
  /** False when there is no such user. */
  updateAdminUser(id: string, patch: AdminUserPatch): Promise<boolean>;
  /**
   * Records `step` as the user's last TOTP step only if it is later than the stored one; true
   * when it was (the code may be accepted), false for a replay. Atomic across instances.
   */
  claimTotpStep(userId: string, step: number): Promise<boolean>;

  /** Replaces the user's recovery codes (hashes) in one transaction. */
  replaceRecoveryCodes(userId: string, hashes: readonly string[]): Promise<void>;
  /** Marks one unused code used; true only for the first caller. */
  consumeRecoveryCode(userId: string, hash: string, at: string): Promise<boolean>;
  countUnusedRecoveryCodes(userId: string): Promise<number>;

  insertAdminSession(session: AdminSessionRecord): Promise<void>;
  getAdminSession(idHash: string): Promise<AdminSessionRecord | undefined>;
  /** Moves lastSeenMs forward (never back). */
  touchAdminSession(idHash: string, atMs: number): Promise<void>;
  deleteAdminSession(idHash: string): Promise<boolean>;
  /** Logs a user out everywhere (disable, MFA reset, role change); returns how many sessions ended. */
  deleteAdminSessionsOfUser(userId: string): Promise<number>;

  /** Rejects with StoreConflictError when the id or hash already exists. */
  insertAdminToken(token: AdminTokenRecord): Promise<void>;
  findAdminTokenByHash(hash: string): Promise<AdminTokenRecord | undefined>;
  getAdminToken(id: string): Promise<AdminTokenRecord | undefined>;
  /** Ordered by creation time, then id. */
  listAdminTokens(query: { readonly userId?: string; readonly tenantId?: string }): Promise<AdminTokenRecord[]>;
  /** False when no such token or already revoked (the first time is kept). */
  revokeAdminToken(id: string, at: string): Promise<boolean>;
  /** Revokes every active token of a user; returns how many. */
  revokeAdminTokensOfUser(userId: string, at: string): Promise<number>;
  touchAdminToken(id: string, at: string): Promise<void>;
}
