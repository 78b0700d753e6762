/**
 * The facts a compliance report is made of. Every value here is read from the running
 * configuration, the store or the audit log by collect.ts — never typed in — so the report
 * is evidence, not a questionnaire.
 */

export interface KeyRef {
  readonly id: string;
  readonly tenantId: string;
  readonly label: string;
  readonly prefix: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
}

export interface AdminRef {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly role: string;
  readonly mfaEnrolled: boolean;
  readonly disabled: boolean;
}

export interface ComplianceFacts {
  readonly generatedAt: string;
  readonly period: { readonly from: string; readonly to: string };
  /** Set when the report covers one tenant (keys, admin users, the period's audit counts); absent: the whole gateway. */
  readonly tenantId?: string;
  readonly gatewayVersion: string;
  readonly configSource: string;
  readonly transport: {
    /** The public listener serves HTTPS. */
    readonly tls: boolean;
    readonly minTlsVersion: string | null;
    readonly hsts: boolean;
    readonly clientCertificates: string;
    /** Providers whose calls are plain http (only loopback/private ones can be, by config). */
    readonly plaintextProviders: readonly string[];
    readonly pinnedProviders: readonly string[];
  };
  readonly encryption: {
    /** Envelope encryption of stored secrets and payload logs is configured. */
    readonly atRest: boolean;
    /** Where the key-encryption key comes from: `configured`, `generated` (demo) or `none`. */
    readonly masterKey: 'configured' | 'generated' | 'none';
    readonly payloadLogging: boolean;
    readonly payloadRetentionDays: number | null;
  };
  readonly identity: {
    readonly apiKeysEnabled: boolean;
    readonly keys: {
      readonly total: number;
      readonly active: number;
      readonly revoked: number;
      readonly expired: number;
      readonly withoutExpiry: readonly KeyRef[];
      /** Active keys not used for 90 days (or never, and created more than 90 days ago). */
      readonly unused90Days: readonly KeyRef[];
    };
    readonly jwtIssuers: number;
    /** Undefined when this gateway has no admin users table (admin API not installed). */
    readonly admins: readonly AdminRef[] | undefined;
    readonly bruteForceLockout: boolean;
  };
  readonly traffic: {
    readonly rateLimitRules: number;
    readonly budgetRules: number;
    readonly maxBodyBytes: number;
    readonly maxInFlight: number;
  };
  readonly audit: {
    readonly path: string;
    /** `audit verify` run now over the whole file. */
    readonly verified: boolean;
    readonly verifyFinding: string | null;
    readonly records: number;
    readonly checkpoints: number;
    readonly unsignedRecords: number;
    readonly retentionDays: number | null;
    /** Records in the period, by action and decision. */
    readonly actionsInPeriod: ReadonlyArray<{
      readonly action: string;
      readonly decision: string;
      readonly count: number;
    }>;
    /** Security events (action `security.*`, `auth.lockout`, …) in the period, with how each was handled. */
    readonly securityEvents: ReadonlyArray<{
      readonly type: string;
      readonly handling: string;
      readonly count: number;
    }>;
  };
  readonly alerting: { readonly webhooks: number; readonly threatRules: number };
}
