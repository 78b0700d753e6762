/**
 * What the Store keeps for encryption at rest (src/crypto): the wrapped data keys and their
 * tombstones (through the DataKeyRepository interface the crypto layer defines) and the
 * encrypted payload log. Both backends implement these and run the repository contracts
 * (src/crypto/data-key-repository-contract.ts, ./payload-log-contract.ts).
 */
import type { DataKeyRepository } from '../crypto/data-key-repository.ts';

/** One logged model call: request and response bodies, encrypted together as one envelope. */
export interface PayloadLogRecord {
  /** The gateway's request id (the row the ciphertext is bound to). */
  readonly requestId: string;
  readonly tenantId: string;
  /** ISO-8601 UTC; retention is counted from here. */
  readonly createdAt: string;
  /** Envelope ciphertext bound to table `payload_log`, row `requestId`, tenant `tenantId`. */
  readonly ciphertext: Buffer;
}

export interface PayloadLogPage {
  /** Only rows whose request id sorts after this one (keyset pagination). */
  readonly afterId?: string;
  readonly limit: number;
}

export interface PayloadLogRepository {
  /** Rejects with StoreConflictError when the request id is already logged. */
  insert(record: PayloadLogRecord): Promise<void>;
  get(requestId: string): Promise<PayloadLogRecord | undefined>;
  /** Deletes at most `limit` rows created before `beforeIso`; returns how many went. */
  deleteOlderThan(beforeIso: string, limit: number): Promise<number>;
  /** The tenant's rows ordered by request id (for batch re-encryption). */
  listByTenant(tenantId: string, page: PayloadLogPage): Promise<PayloadLogRecord[]>;
  /** How many rows the tenant has (the total a re-encryption shows progress against). */
  countByTenant(tenantId: string): Promise<number>;
  /** Compare-and-set: replaces the ciphertext only if it is still `expected`. */
  replaceCiphertext(requestId: string, expected: Buffer, next: Buffer): Promise<boolean>;
}

export interface EncryptionStore {
  readonly dataKeys: DataKeyRepository;
  readonly payloadLog: PayloadLogRepository;
}
