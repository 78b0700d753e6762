/** Helpers for the audit tests: a fresh key, a log in a temp folder, and direct file access. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type AuditLog, type AuditWriterMode, openAuditLog } from './audit-log.ts';
import { openAuditDatabaseForReading } from './database.ts';
import { createSigner, parsePrivateKeyPem } from './signing-key.ts';
import type { AuditEntry } from './types.ts';
import { type VerifyResult, verifyAuditDatabase } from './verify.ts';

export function newKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function publicKeyOf(pem: string): string {
  return createSigner(parsePrivateKeyPem(pem, 'test key')).publicKey;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'portcullis-audit-'));
}

export function entry(i: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    actor: { kind: 'api_key', id: `key_${i}`, tenant: 'default' },
    action: 'model.call',
    target: 'gpt',
    decision: 'allowed',
    reason: null,
    requestId: `req-${i}`,
    metadata: { surface: 'openai', n: i },
    ...over,
  };
}

export async function writeLog(
  path: string,
  pem: string,
  count: number,
  opts: { checkpointEvery?: number } = {},
): Promise<void> {
  const log = await openTestLog(path, pem, opts);
  for (let i = 1; i <= count; i++) await log.append(entry(i));
  await log.close();
}

export function openTestLog(
  path: string,
  pem: string,
  opts: { checkpointEvery?: number; writer?: AuditWriterMode } = {},
): Promise<AuditLog> {
  return openAuditLog({
    path,
    signingKeyPem: pem,
    checkpointEvery: opts.checkpointEvery ?? 1000,
    checkpointIntervalMs: 3_600_000,
    writer: opts.writer,
  });
}

export function verifyFile(
  path: string,
  trusted: readonly string[],
  opts: { allowUnsignedTail?: boolean } = {},
): VerifyResult {
  const db = openAuditDatabaseForReading(path);
  try {
    return verifyAuditDatabase(db, { trustedPublicKeys: trusted, ...opts });
  } finally {
    db.close();
  }
}

/** Opens the file as an attacker with write access would: raw SQLite, append-only triggers dropped. */
export function tamper(path: string, fn: (db: DatabaseSync) => void): void {
  const db = new DatabaseSync(path);
  try {
    for (const t of [
      'audit_records_no_update',
      'audit_records_no_delete',
      'audit_checkpoints_no_update',
      'audit_checkpoints_no_delete',
    ]) {
      db.exec(`DROP TRIGGER IF EXISTS ${t}`);
    }
    fn(db);
  } finally {
    db.close();
  }
}
