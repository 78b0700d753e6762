/**
 * Opens the SQLite file owner-only, sets the pragmas every connection needs and brings the
 * schema up to date. Any failure becomes a `StoreOpenError` that says what is wrong with the
 * file; the file itself is never modified or replaced when it cannot be read.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { StoreOpenError } from '../errors.ts';
import { MIGRATIONS } from './migrations.ts';

const BUSY_TIMEOUT_MS = 5_000;
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;
const POSIX = process.platform !== 'win32';

export function openDatabase(path: string): DatabaseSync {
  prepareFile(path);
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS, enableForeignKeyConstraints: true });
    // journal_mode is the first statement that reads the header, so a foreign file fails here.
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA foreign_keys = ON');
    migrate(db, path);
    return db;
  } catch (err) {
    try {
      db?.close();
    } catch {
      // Already failing; the original error is the useful one.
    }
    if (err instanceof StoreOpenError) throw err;
    const code = (err as { errcode?: number }).errcode;
    const primary = code === undefined ? undefined : code & 0xff;
    if (primary === SQLITE_NOTADB || primary === SQLITE_CORRUPT) {
      throw new StoreOpenError(
        `${path} is not a SQLite database or is corrupted; it was left untouched (restore it from a backup or move it away)`,
        { cause: err },
      );
    }
    throw new StoreOpenError(`cannot open SQLite database ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The store holds key hashes and usage: folder 0700, file (and its WAL/SHM, which inherit it) 0600. */
function prepareFile(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
    if (POSIX && (statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new StoreOpenError(`cannot create or open SQLite database file ${path} (${code})`, { cause: err });
  }
}

export function currentVersion(db: DatabaseSync): number {
  const row = db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get();
  return Number(row?.v ?? 0);
}

function migrate(db: DatabaseSync, path: string): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL) STRICT',
  );
  const known = MIGRATIONS.length;
  const found = currentVersion(db);
  if (found > known) {
    throw new StoreOpenError(
      `${path} has schema version ${found}, newer than this Portcullis knows (${known}); upgrade Portcullis or use a matching database`,
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  for (let version = found + 1; version <= known; version++) {
    // IMMEDIATE takes the write lock first, so two processes starting together cannot both apply it.
    db.exec('BEGIN IMMEDIATE');
    try {
      if (currentVersion(db) >= version) {
        db.exec('COMMIT');
        continue;
      }
      db.exec(MIGRATIONS[version - 1] ?? '');
      record.run(version, new Date().toISOString());
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw new StoreOpenError(`migration ${version} failed on ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
}
