/**
 * The audit record: who did what to which target, what was decided and why. Records are
 * metadata only: never prompts, completions, keys or other secrets.
 */

/** Who acted. `kind` is open so later actors (admin users, the admin API) fit without a schema change. */
export interface AuditActor {
  /** `api_key`, `anonymous`, `cli`, `system`, … */
  readonly kind: string;
  readonly id: string | null;
  readonly tenant: string | null;
}

export type AuditDecision = 'allowed' | 'refused';

export type AuditMetadata = Readonly<Record<string, string | number | boolean | null>>;

/** What a caller hands to `AuditLog.append`. */
export interface AuditEntry {
  /** ISO-8601; defaults to the time of the append. */
  readonly time?: string;
  readonly actor: AuditActor;
  /** Dotted lower-case name, e.g. `model.call`, `key.create`, `key.revoke`, `auth.failure`. */
  readonly action: string;
  readonly target: string | null;
  readonly decision: AuditDecision;
  /** A catalogue code (`auth.invalid_key`) for refusals; null when allowed. */
  readonly reason: string | null;
  readonly requestId: string | null;
  /** Small flat map of non-secret facts (surface, client address, …). */
  readonly metadata?: AuditMetadata;
}

/** An entry checked and serialised, ready for the writer (crosses the worker boundary as-is). */
export interface PreparedEntry {
  readonly time: string;
  readonly actorKind: string;
  readonly actorId: string | null;
  readonly actorTenant: string | null;
  readonly action: string;
  readonly target: string | null;
  readonly decision: AuditDecision;
  readonly reason: string | null;
  readonly requestId: string | null;
  /** Canonical JSON text (sorted keys); the hash covers exactly this text. */
  readonly metadata: string;
}

/** A stored record: the entry plus its place in the chain. */
export interface AuditRecord extends PreparedEntry {
  /** PostgreSQL: the chain (one per instance) the record belongs to; undefined in the SQLite file. */
  readonly chain?: string;
  /** Position in a read across every chain, for paging (PostgreSQL: a global id; SQLite: seq). Not hashed. */
  readonly cursor?: number;
  readonly seq: number;
  /** Hex SHA-256 of the previous record (64 zeros for the first). */
  readonly prevHash: string;
  readonly hash: string;
}

/** A signed statement "the chain had this head": see checkpoint.ts. */
export interface AuditCheckpoint {
  readonly id: number;
  /** First record this checkpoint covers (the previous checkpoint's seq + 1). */
  readonly fromSeq: number;
  /** The head it signs. */
  readonly seq: number;
  readonly hash: string;
  /** The raw 32-byte hashes of records fromSeq..seq, concatenated; signed through their digest. */
  readonly hashes: Uint8Array;
  readonly time: string;
  /** Base64 SPKI DER of the Ed25519 public key that signed. */
  readonly publicKey: string;
  /** Base64 Ed25519 signature over the checkpoint message. */
  readonly signature: string;
}
