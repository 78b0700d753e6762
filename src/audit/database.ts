/**
 * The audit log's own SQLite file: owner-only (folder 0700, file 0600), WAL with
 * `synchronous = FULL` so a commit is on disk before it is acknowledged (or `NORMAL`, the writer
 * fsyncing the WAL itself: see writer.ts), and triggers that
 * refuse UPDATE and DELETE through SQLite. The triggers stop mistakes, not an attacker with the
 * file; the hash chain and signed checkpoints are what make tampering visible.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

const SCHEMA_VERSION = 2;
/** Readers accept files an older gateway wrote; the writer migrates them on open. */
const READABLE_VERSIONS: readonly number[] = [1, 2];
const POSIX = process.platform !== 'win32';
/** How long a write waits for another writer (the CLI appending while the gateway runs). */
export const AUDIT_BUSY_TIMEOUT_MS = 2_000;

export class AuditOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditOpenError';
  }
}

/**
 * Version 2: retention anchors. Pruning old records removes the start of the chain; each
 * prune leaves a signed anchor (the last pruned record's seq and hash, and the checkpoint that
 * had signed it) from which verification starts. See retention.ts.
 */
const PRUNES_SCHEMA = `
CREATE TABLE audit_prunes (
  id            INTEGER PRIMARY KEY,
  through_seq   INTEGER NOT NULL,
  through_hash  TEXT NOT NULL,
  checkpoint_id INTEGER NOT NULL,
  records       INTEGER NOT NULL,
  time          TEXT NOT NULL,
  public_key    TEXT NOT NULL,
  signature     TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_prunes_no_update BEFORE UPDATE ON audit_prunes BEGIN SELECT RAISE(ABORT, 'audit prune anchors are append-only'); END;
CREATE TRIGGER audit_prunes_no_delete BEFORE DELETE ON audit_prunes BEGIN SELECT RAISE(ABORT, 'audit prune anchors are append-only'); END;
`;

const SCHEMA = `
CREATE TABLE audit_records (
  seq          INTEGER PRIMARY KEY,
  time         TEXT NOT NULL,
  actor_kind   TEXT NOT NULL,
  actor_id     TEXT,
  actor_tenant TEXT,
  action       TEXT NOT NULL,
  target       TEXT,
  decision     TEXT NOT NULL,
  reason       TEXT,
  request_id   TEXT,
  metadata     TEXT NOT NULL,
  prev_hash    TEXT NOT NULL,
  hash         TEXT NOT NULL
) STRICT;
CREATE INDEX audit_records_time ON audit_records (time, seq);
CREATE INDEX audit_records_request ON audit_records (request_id);
CREATE TABLE audit_checkpoints (
  id         INTEGER PRIMARY KEY,
  from_seq   INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  hash       TEXT NOT NULL,
  hashes     BLOB NOT NULL,
  time       TEXT NOT NULL,
  public_key TEXT NOT NULL,
  signature  TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
${PRUNES_SCHEMA}
PRAGMA user_version = ${SCHEMA_VERSION};
`;

/**
 * Opens (creating if needed) the audit file for appending. `FULL` (the default) syncs the WAL at
 * every commit; `NORMAL` leaves that to the caller (the writer: see writer.ts).
 */
export function openAuditDatabaseForWriting(path: string, synchronous: 'FULL' | 'NORMAL' = 'FULL'): DatabaseSync {
  prepareFile(path);
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { timeout: AUDIT_BUSY_TIMEOUT_MS });
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
    db.exec('BEGIN IMMEDIATE');
    try {
      const version = userVersion(db);
      if (version === 0) db.exec(SCHEMA);
      else if (version === 1) db.exec(`${PRUNES_SCHEMA}\nPRAGMA user_version = ${SCHEMA_VERSION};`);
      else checkVersion(version, path);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    return db;
  } catch (err) {
    try {
      db?.close();
    } catch {
      /* the original error is the useful one */
    }
    if (err instanceof AuditOpenError) throw err;
    throw new AuditOpenError(`cannot open audit log ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Opens an existing audit file for reading (verify, export). Never creates or changes it. */
export function openAuditDatabaseForReading(path: string): DatabaseSync {
  if (!existsSync(path)) throw new AuditOpenError(`audit log ${path} does not exist`);
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true, timeout: AUDIT_BUSY_TIMEOUT_MS });
    const version = userVersion(db);
    if (version === 0) throw new AuditOpenError(`${path} is not a Portcullis audit log (no audit schema)`);
    checkVersion(version, path);
    return db;
  } catch (err) {
    try {
      db?.close();
    } catch {
      /* the original error is the useful one */
    }
    if (err instanceof AuditOpenError) throw err;
    throw new AuditOpenError(`cannot read audit log ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function userVersion(db: DatabaseSync): number {
  return Number(db.prepare('PRAGMA user_version').get()?.user_version ?? 0);
}

/** Whether the file has the retention table (readers of a version-1 file: no). */
export function hasPruneAnchors(db: DatabaseSync): boolean {
  return userVersion(db) >= 2;
}

function checkVersion(version: number, path: string): void {
  if (!READABLE_VERSIONS.includes(version)) {
    throw new AuditOpenError(
      `${path} has audit schema version ${version}; this Portcullis knows version ${SCHEMA_VERSION}`,
    );
  }
}

function prepareFile(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
    if (POSIX && (statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new AuditOpenError(`cannot create or open audit log file ${path} (${code})`, { cause: err });
  }
}
