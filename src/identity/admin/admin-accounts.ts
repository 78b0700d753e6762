/**
 * Admin accounts: creation, enrolment (the user sets their own password and receives their TOTP
 * secret and recovery codes), MFA reset and disabling. Used by the admin API (users routes,
 * enrolment route) and the CLI (`portcullis admin create|reset-mfa`). No account ever has a
 * default password: one created without a password has a one-time enrolment token instead.
 */
import { randomUUID } from 'node:crypto';
import type { Binding } from '../../crypto/envelope-format.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import type { AdminUserRecord } from '../../store/admin-records.ts';
import type { Store } from '../../store/store.ts';
import {
  ENROLMENT_TOKEN_PREFIX,
  isWellFormedToken,
  keyedHash,
  newEnrolmentToken,
  newRecoveryCodes,
  normaliseRecoveryCode,
} from './admin-secrets.ts';
import { DEFAULT_SCRYPT_COST, hashPassword, passwordProblem, type ScryptCost, verifyPassword } from './password.ts';
import { ADMIN_ROLES, type AdminRole } from './roles.ts';
import { base32Encode, generateTotpSecret, otpauthUri } from './totp.ts';

/** Envelope encryption (src/crypto/envelope.ts) as this module needs it. */
export interface SecretSealer {
  encrypt(binding: Binding, plaintext: Uint8Array | string): Promise<Buffer>;
  decrypt(binding: Binding, ciphertext: Uint8Array): Promise<Buffer>;
}

export interface MfaSetup {
  /** Base32 TOTP secret, for manual entry. */
  readonly totpSecret: string;
  readonly otpauthUri: string;
  /** Shown once; only their hashes are stored. */
  readonly recoveryCodes: readonly string[];
}

export interface AdminAccountsOptions {
  readonly store: Store;
  /** The server secret (security.key_hash_secret) keying the stored hashes. */
  readonly secret: Buffer;
  readonly sealer: SecretSealer;
  readonly scryptCost?: ScryptCost;
  readonly enrolmentTtlS?: number;
  readonly now?: () => number;
  /** Shown in authenticator apps. */
  readonly issuer?: string;
}

export interface NewAdminUser {
  readonly tenantId: string;
  readonly teamId: string | null;
  readonly email: string;
  readonly role: AdminRole;
  /** Set directly (CLI, at the operator's terminal); otherwise an enrolment token is issued. */
  readonly password?: string;
}

export interface AdminAccounts {
  create(
    input: NewAdminUser,
  ): Promise<{ user: AdminUserRecord; mfa?: MfaSetup; enrolmentToken?: string; enrolmentExpiresAt?: string }>;
  /** Consumes an enrolment token: sets (or, after an MFA reset, proves) the password and sets up MFA. */
  enrol(token: string, password: string): Promise<{ user: AdminUserRecord; mfa: MfaSetup }>;
  /** New TOTP secret and codes now (CLI), ending every session and token of the user. */
  resetMfa(userId: string): Promise<MfaSetup>;
  /** Clears MFA and issues an enrolment token (admin API): the user proves their password and enrols again. */
  resetMfaByEnrolment(userId: string): Promise<{ enrolmentToken: string; enrolmentExpiresAt: string }>;
  disable(userId: string): Promise<boolean>;
  /** Proves the current password, sets a new one and ends every session of the user. */
  changePassword(userId: string, current: string, next: string): Promise<void>;
  /** The user's TOTP secret, decrypted; throws when it cannot be (fail closed). */
  totpSecretOf(user: AdminUserRecord): Promise<Buffer>;
  recoveryCodeHash(code: string): string | undefined;
  readonly scryptCost: ScryptCost;
}

export const DEFAULT_ENROLMENT_TTL_S = 86_400;
const EMAIL = /^[^\s@\u0000-\u001f]{1,64}@[^\s@\u0000-\u001f]{1,190}$/;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function emailProblem(email: unknown): string | undefined {
  if (typeof email !== 'string' || !EMAIL.test(email.trim())) return 'expected an email address';
  return undefined;
}

export function totpBinding(user: Pick<AdminUserRecord, 'id' | 'tenantId'>): Binding {
  return { table: 'admin_users', row: user.id, tenant: user.tenantId, column: 'totp_secret' };
}

export function createAdminAccounts(opts: AdminAccountsOptions): AdminAccounts {
  const { store, secret, sealer } = opts;
  const cost = opts.scryptCost ?? DEFAULT_SCRYPT_COST;
  const ttlS = opts.enrolmentTtlS ?? DEFAULT_ENROLMENT_TTL_S;
  const now = opts.now ?? Date.now;
  const issuer = opts.issuer ?? 'Portcullis';
  if (!Number.isInteger(ttlS) || ttlS < 60) throw new RangeError('enrolmentTtlS must be an integer of at least 60');
  if (secret.length < 32) throw new RangeError('the server secret must be at least 32 bytes');

  async function setUpMfa(user: AdminUserRecord): Promise<MfaSetup> {
    const totp = generateTotpSecret();
    try {
      const sealed = await sealer.encrypt(totpBinding(user), totp);
      const codes = newRecoveryCodes();
      await store.replaceRecoveryCodes(
        user.id,
        codes.map((c) => keyedHash(secret, 'recovery-code', normaliseRecoveryCode(c)!)),
      );
      await store.updateAdminUser(user.id, { totpSecret: sealed.toString('base64'), totpLastStep: 0 });
      return { totpSecret: base32Encode(totp), otpauthUri: otpauthUri(totp, user.email, issuer), recoveryCodes: codes };
    } finally {
      totp.fill(0);
    }
  }

  async function endAccess(userId: string): Promise<void> {
    await store.deleteAdminSessionsOfUser(userId);
    await store.revokeAdminTokensOfUser(userId, new Date(now()).toISOString());
  }

  function issueEnrolment(): { token: string; hash: string; expiresAt: string } {
    const token = newEnrolmentToken();
    return {
      token,
      hash: keyedHash(secret, 'enrolment', token),
      expiresAt: new Date(now() + ttlS * 1000).toISOString(),
    };
  }

  return {
    scryptCost: cost,

    async create(input) {
      const email = normaliseEmail(input.email);
      const badEmail = emailProblem(email);
      if (badEmail !== undefined)
        throw gatewayError('request.invalid', { params: { path: 'email', detail: badEmail }, param: 'email' });
      if (!(ADMIN_ROLES as readonly string[]).includes(input.role)) {
        throw gatewayError('request.invalid', {
          params: { path: 'role', detail: `expected one of ${ADMIN_ROLES.join(', ')}` },
          param: 'role',
        });
      }
      if (input.password !== undefined) {
        const weak = await passwordProblem(input.password, email, [input.tenantId]);
        if (weak !== undefined) throw gatewayError('admin.weak_password', { params: { detail: weak } });
      }
      const enrolment = input.password === undefined ? issueEnrolment() : undefined;
      const base: AdminUserRecord = {
        id: `adm_${randomUUID().replaceAll('-', '')}`,
        tenantId: input.tenantId,
        teamId: input.teamId,
        email,
        role: input.role,
        passwordHash: input.password === undefined ? null : await hashPassword(input.password, cost),
        totpSecret: null,
        totpLastStep: 0,
        enrolmentHash: enrolment?.hash ?? null,
        enrolmentExpiresAt: enrolment?.expiresAt ?? null,
        createdAt: new Date(now()).toISOString(),
        disabledAt: null,
      };
      await store.insertAdminUser(base);
      if (enrolment !== undefined)
        return { user: base, enrolmentToken: enrolment.token, enrolmentExpiresAt: enrolment.expiresAt };
      const mfa = await setUpMfa(base);
      return { user: (await store.getAdminUser(base.id)) ?? base, mfa };
    },

    async enrol(token, password) {
      const invalid = () => gatewayError('admin.enrolment_invalid');
      if (typeof token !== 'string' || !isWellFormedToken(token, ENROLMENT_TOKEN_PREFIX)) throw invalid();
      const user = await store.findAdminUserByEnrolmentHash(keyedHash(secret, 'enrolment', token));
      if (
        user === undefined ||
        user.disabledAt !== null ||
        user.enrolmentExpiresAt === null ||
        Date.parse(user.enrolmentExpiresAt) <= now()
      )
        throw invalid();
      let passwordHash = user.passwordHash;
      if (passwordHash !== null) {
        // After an MFA reset the token alone must not be enough: the user proves their password too.
        if (!(await verifyPassword(password, passwordHash))) throw gatewayError('admin.invalid_credentials');
      } else {
        const weak = await passwordProblem(password, user.email, [user.tenantId]);
        if (weak !== undefined) throw gatewayError('admin.weak_password', { params: { detail: weak } });
        passwordHash = await hashPassword(password, cost);
      }
      // Clearing the token first makes a concurrent second use find nothing.
      await store.updateAdminUser(user.id, { enrolmentHash: null, enrolmentExpiresAt: null, passwordHash });
      const mfa = await setUpMfa(user);
      return { user: (await store.getAdminUser(user.id)) ?? user, mfa };
    },

    async resetMfa(userId) {
      const user = await store.getAdminUser(userId);
      if (user === undefined) throw new Error(`no admin user ${userId}`);
      await endAccess(userId);
      return setUpMfa(user);
    },

    async resetMfaByEnrolment(userId) {
      const enrolment = issueEnrolment();
      await store.updateAdminUser(userId, {
        totpSecret: null,
        totpLastStep: 0,
        enrolmentHash: enrolment.hash,
        enrolmentExpiresAt: enrolment.expiresAt,
      });
      await store.replaceRecoveryCodes(userId, []);
      await endAccess(userId);
      return { enrolmentToken: enrolment.token, enrolmentExpiresAt: enrolment.expiresAt };
    },

    async disable(userId) {
      const done = await store.updateAdminUser(userId, { disabledAt: new Date(now()).toISOString() });
      if (done) await endAccess(userId);
      return done;
    },

    async changePassword(userId, current, next) {
      const user = await store.getAdminUser(userId);
      if (user === undefined || user.passwordHash === null || !(await verifyPassword(current, user.passwordHash))) {
        throw gatewayError('admin.invalid_credentials');
      }
      const weak = await passwordProblem(next, user.email, [user.tenantId]);
      if (weak !== undefined) throw gatewayError('admin.weak_password', { params: { detail: weak } });
      if (await verifyPassword(next, user.passwordHash))
        throw gatewayError('admin.weak_password', { params: { detail: 'it is the current password' } });
      await store.updateAdminUser(userId, { passwordHash: await hashPassword(next, cost) });
      await store.deleteAdminSessionsOfUser(userId);
    },

    async totpSecretOf(user) {
      if (user.totpSecret === null) throw new Error('the user has no TOTP secret');
      return sealer.decrypt(totpBinding(user), Buffer.from(user.totpSecret, 'base64'));
    },

    recoveryCodeHash(code) {
      const clean = normaliseRecoveryCode(code);
      return clean === undefined ? undefined : keyedHash(secret, 'recovery-code', clean);
    },
  };
}
