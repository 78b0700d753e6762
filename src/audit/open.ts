/** Opens the audit log a config describes, resolving (or generating) its signing key. */
import type { Logger } from '../observability/logger.ts';
import { type AuditLog, openAuditLog } from './audit-log.ts';
import type { AuditConfig } from './config-types.ts';
import { openPgAuditLog } from './postgres/pg-audit-log.ts';
import { resolveSigningKeyPem } from './signing-key.ts';

/**
 * `dataDir` is kept for the callers' sake: where a generated key lives comes from `cfg`
 * (`audit.key_dir`, outside the log's folder). With a logger, a key still in the legacy place
 * beside the log is moved out and the move is logged.
 */
export async function openConfiguredAuditLog(cfg: AuditConfig, _dataDir: string, log?: Logger): Promise<AuditLog> {
  const signingKeyPem = resolveSigningKeyPem(cfg.signingKeyPem, cfg, { create: true, ...(log ? { log } : {}) });
  if (cfg.postgres !== undefined) {
    // The shared store: this process appends to its own chain among the instances' chains.
    return openPgAuditLog({
      url: cfg.postgres.url,
      schema: cfg.postgres.schema,
      signingKeyPem,
      checkpointEvery: cfg.checkpointEvery,
      checkpointIntervalMs: cfg.checkpointIntervalMs,
      retentionDays: cfg.retentionDays,
      durability: cfg.durability,
      ...(log ? { log } : {}),
    });
  }
  return openAuditLog({
    path: cfg.path,
    signingKeyPem,
    checkpointEvery: cfg.checkpointEvery,
    checkpointIntervalMs: cfg.checkpointIntervalMs,
    retentionDays: cfg.retentionDays,
    writer: cfg.writer,
    durability: cfg.durability,
    flushIntervalMs: cfg.flushIntervalMs,
    ...(log ? { log } : {}),
  });
}
