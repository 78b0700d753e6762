/**
 * The Store contract. Every backend (sqlite/ now, postgres/ later) implements it and must
 * pass `contract.ts`'s suite. Methods are async even where a backend is synchronous, so
 * callers do not change when the backend does. Records hold metadata only, never bodies.
 */

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
}

export interface Store {
  readonly driver: string;
  /** Apply pending migrations. Idempotent. */
  init(): Promise<void>;
  /** Current schema version (number of applied migrations). */
  schemaVersion(): Promise<number>;
  /** Resolves when the store can serve; rejects otherwise. Used by /readyz. */
  ping(): Promise<void>;
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
}

export class StoreConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreConflictError';
  }
}
