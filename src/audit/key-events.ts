/** Audit entries for key management (CLI and demo). Never the key itself, only its id and prefix. */
import { userInfo } from 'node:os';
import type { ApiKeyRecord } from '../store/store.ts';
import type { AuditActor, AuditEntry } from './types.ts';

/** The operator at the terminal: the OS user running the command. */
export function cliActor(): AuditActor {
  let user: string | null = null;
  try {
    user = userInfo().username.slice(0, 256) || null;
  } catch {
    // No passwd entry (some containers): the record still says it came from the CLI.
  }
  return { kind: 'cli', id: user, tenant: null };
}

export const SYSTEM_DEMO_ACTOR: AuditActor = { kind: 'system', id: 'demo', tenant: null };

export function keyCreatedEntry(record: ApiKeyRecord, actor: AuditActor): AuditEntry {
  return {
    actor,
    action: 'key.create',
    target: record.id,
    decision: 'allowed',
    reason: null,
    requestId: null,
    metadata: {
      tenant: record.tenantId,
      key_prefix: record.prefix,
      label: record.label.slice(0, 200),
      models: record.allowedModels.join(',').slice(0, 500),
      expires_at: record.expiresAt,
      ip_allowlist: (record.ipAllowlist ?? []).join(',').slice(0, 1000) || null,
      endpoints: record.allowedEndpoints == null ? null : record.allowedEndpoints.join(','),
      read_only: record.readOnly === true,
      rotated_from: record.rotatedFrom ?? null,
      ...(record.clientCertSha256 != null ? { client_cert_sha256: record.clientCertSha256 } : {}),
    },
  };
}

/** A rotation: the new key's creation is its own `key.create` entry; this one says when the old key stops working. */
export function keyRotatedEntry(old: ApiKeyRecord, replacement: ApiKeyRecord, actor: AuditActor): AuditEntry {
  return {
    actor,
    action: 'key.rotate',
    target: old.id,
    decision: 'allowed',
    reason: null,
    requestId: null,
    metadata: {
      tenant: old.tenantId,
      key_prefix: old.prefix,
      replaced_by: replacement.id,
      old_expires_at: old.expiresAt,
    },
  };
}

export function keyRevokedEntry(id: string, actor: AuditActor): AuditEntry {
  return { actor, action: 'key.revoke', target: id.slice(0, 256), decision: 'allowed', reason: null, requestId: null };
}
