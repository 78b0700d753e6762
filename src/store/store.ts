/**
 * The Store contract. Every backend (sqlite/ now, postgres/ later) implements it and must
 * pass `contract.ts`'s suite. Methods are async even where a backend is synchronous, so
 * callers do not change when the backend does. Records hold metadata only, never bodies.
 */

import type { DecisionInputs } from '../core/context.ts';
import type { PolicyStore } from '../policy/contract.ts';
import type { AdminStore } from './admin-records.ts';
import type { ApiKeyRecord, ApiKeyRotation } from './api-key-records.ts';
import type { EncryptionStore } from './encryption-records.ts';
import type { OAuthStore } from './oauth-records.ts';
import type { PromptApiStore } from './prompt-api-records.ts';
import type { TenancyStore } from './tenancy.ts';
import type { UsageStore } from './usage-records.ts';

export interface RequestRecord {
  readonly id: string;
  /** ISO-8601 UTC. */
  readonly time: string;
  readonly tenantId: string;
  readonly keyId: string | null;
  readonly surface: 'openai' | 'anthropic';
  readonly operation: 'chat' | 'embeddings' | 'models';
  /** Public model name asked for (null when the request failed before one was known). */
  readonly model: string | null;
  readonly provider: string | null;
  readonly targetModel: string | null;
  readonly status: number;
  readonly errorCode: string | null;
  readonly stream: boolean;
  readonly latencyMs: number;
  readonly attempts: number;
  readonly promptTokens: number | null;
  readonly completionTokens: number | null;
  readonly totalTokens: number | null;
  /** The caller's team (JWT team claim or the key's team), for budgets and reports. */
  readonly teamId: string | null;
  /** JWT callers: the user (token subject). */
  readonly userId: string | null;
  /** Prompt tokens read from the provider's cache (part of promptTokens). */
  readonly cachedTokens: number | null;
  /** Prompt tokens written to the provider's cache (part of promptTokens, apart from cachedTokens). */
  readonly cacheWriteTokens: number | null;
  /** Cost in integer micro-dollars; null when tokens were used but the model has no price. */
  readonly costMicros: number | null;
  /** Version of the price table the cost was computed with (null: no price applied). */
  readonly priceVersion: string | null;
  /** True when the provider reported no usage and the gateway counted the tokens itself. */
  readonly usageEstimated: boolean;
  /**
   * Guardrail detectors that fired, comma-separated `detector:action` (`pii:redact,injection:block`,
   * `judge:error` for a failed judge); null when none did. Types and text are never stored here.
   */
  readonly guardDetectors?: string | null;
  /**
   * What the policy decision read (counts, sizes, the token estimate, the caller's kind and
   * network class; never text), for replaying the request against a candidate policy
   * (`policy dry-run`). Null for model listings and requests refused before their body was read.
   */
  readonly decisionInputs?: DecisionInputs | null;
  /**
   * Prompt API calls (src/apis/): the API's name, for `report usage --group-by api`. Absent for
   * every other request (the store leaves it out rather than returning null).
   */
  readonly api?: string | null;
  /**
   * The live policy version (src/policy/) the request ran under, so any decision can be traced
   * to the policy that made it; null when the instance had none loaded (or for older records).
   */
  readonly policyVersion?: number | null;
}

export interface RequestRecordQuery {
  /** Inclusive lower bound, ISO-8601. */
  readonly since?: string;
  /** Exclusive upper bound, ISO-8601. */
  readonly until?: string;
  readonly tenantId?: string;
  readonly keyId?: string;
  /** 1..10000. Newest first. */
  readonly limit: number;
}

export {
  type ApiKeyRecord,
  type ApiKeyRotation,
  KEY_ENDPOINTS,
  type KeyEndpoint,
} from './api-key-records.ts';

export interface Store
  extends AdminStore,
    EncryptionStore,
    TenancyStore,
    OAuthStore,
    UsageStore,
    PolicyStore,
    PromptApiStore {
  readonly driver: string;
  /** Apply pending migrations. Idempotent. */
  init(): Promise<void>;
  /** Current schema version (number of applied migrations). */
  schemaVersion(): Promise<number>;
  /** Resolves when the store can serve; rejects otherwise. Used by /readyz. */
  ping(): Promise<void>;
  /** False while a shared database is known not to answer (PostgreSQL; read by metrics). Embedded stores have none. */
  reachable?(): boolean;
  close(): Promise<void>;

  insertRequestRecord(record: RequestRecord): Promise<void>;
  listRequestRecords(query: RequestRecordQuery): Promise<RequestRecord[]>;

  /** Rejects with StoreConflictError when the id or hash already exists. */
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(query: { tenantId?: string }): Promise<ApiKeyRecord[]>;
  /** Returns false when no such key or already revoked (the first revocation time is kept). */
  revokeApiKey(id: string, at: string): Promise<boolean>;
  touchApiKey(id: string, at: string): Promise<void>;
  /**
   * Inserts the replacement and shortens the old key's life to the grace end, in one transaction.
   * False (and nothing written) when the old key does not exist or is revoked.
   */
  rotateApiKey(rotation: ApiKeyRotation): Promise<boolean>;
}

export class StoreConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreConflictError';
  }
}
