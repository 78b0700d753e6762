/**
 * What a PostgreSQL chain's checkpoints and retention anchors sign. Like the SQLite file's
 * (canonical.ts, retention.ts), plus the chain's id, so a signed checkpoint cannot be copied
 * from one chain to another. Record hashes are the same as in the file.
 */
import { createHash } from 'node:crypto';
import { frame } from '../canonical.ts';
import type { PruneAnchor } from '../retention.ts';
import type { AuditCheckpoint } from '../types.ts';
import type { MessageFraming } from '../verify.ts';

const CHECKPOINT_LABEL = 'portcullis-audit-chain-checkpoint-v1';
const ANCHOR_LABEL = 'portcullis-audit-chain-prune-v1';

export function chainCheckpointMessage(chainId: string, cp: Omit<AuditCheckpoint, 'signature' | 'publicKey'>): Buffer {
  const digest = createHash('sha256').update(cp.hashes).digest('hex');
  return frame([CHECKPOINT_LABEL, chainId, cp.id, cp.fromSeq, cp.seq, cp.hash, digest, cp.time]);
}

export function chainAnchorMessage(chainId: string, a: Omit<PruneAnchor, 'publicKey' | 'signature'>): Buffer {
  return frame([ANCHOR_LABEL, chainId, a.id, a.throughSeq, a.throughHash, a.checkpointId, a.records, a.time]);
}

export function chainFraming(chainId: string): MessageFraming {
  return { checkpoint: (cp) => chainCheckpointMessage(chainId, cp), anchor: (a) => chainAnchorMessage(chainId, a) };
}

/** Schema-qualified table names (the schema is validated by the config reader). */
export function auditTables(quotedSchema: string) {
  return {
    chains: `${quotedSchema}.audit_chains`,
    records: `${quotedSchema}.audit_records`,
    checkpoints: `${quotedSchema}.audit_checkpoints`,
    prunes: `${quotedSchema}.audit_prunes`,
  };
}
export type AuditTables = ReturnType<typeof auditTables>;
