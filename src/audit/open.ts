/** Opens the audit log a config describes, resolving (or generating) its signing key. */
import type { AuditConfig } from '../config/types.ts';
import type { Logger } from '../observability/logger.ts';
import { type AuditLog, openAuditLog } from './audit-log.ts';
import { resolveSigningKeyPem } from './signing-key.ts';

export async function openConfiguredAuditLog(cfg: AuditConfig, dataDir: string, log?: Logger): Promise<AuditLog> {
  const signingKeyPem = resolveSigningKeyPem(cfg.signingKeyPem, dataDir, { create: true });
  return openAuditLog({
    path: cfg.path,
    signingKeyPem,
    checkpointEvery: cfg.checkpointEvery,
    checkpointIntervalMs: cfg.checkpointIntervalMs,
    retentionDays: cfg.retentionDays,
    ...(log ? { log } : {}),
  });
}
