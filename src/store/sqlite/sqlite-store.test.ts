import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { runStoreContract } from '../contract.ts';
import { sampleRequestRecord } from '../contract-fixtures.ts';
import { StoreOpenError } from '../errors.ts';
import { openStore } from '../open.ts';
import { MIGRATIONS } from './migrations.ts';
import { createSqliteStore } from './sqlite-store.ts';

const root = mkdtempSync(join(tmpdir(), 'portcullis-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(root, `case-${++n}`, 'store.db');
const POSIX = process.platform !== 'win32';

for (const batchWindowMs of [50, 0]) {
  runStoreContract(`sqlite (batch window ${batchWindowMs} ms)`, async () => {
    const path = freshPath();
    return {
      store: createSqliteStore({ path, batchWindowMs }),
      reopen: async () => createSqliteStore({ path, batchWindowMs }),
      cleanup: async () => rmSync(join(path, '..'), { recursive: true, force: true }),
    };
  });
}

describe('sqlite store specifics', () => {
  it('creates its folder 0700 and the database 0600, in WAL mode', { skip: !POSIX }, async () => {
    const path = freshPath();
    const store = await openStore({ driver: 'sqlite', path });
    await store.insertRequestRecord(sampleRequestRecord());
    await store.listRequestRecords({ limit: 1 });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
    assert.ok(existsSync(`${path}-wal`), 'WAL file present while open');
    assert.equal(statSync(`${path}-wal`).mode & 0o777, 0o600);
    await store.close();
    const db = new DatabaseSync(path);
    assert.equal(db.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal');
    db.close();
  });

  it('tightens a database file created with loose permissions', { skip: !POSIX }, async () => {
    const path = freshPath();
    const store = await openStore({ driver: 'sqlite', path });
    await store.close();
    chmodSync(path, 0o644);
    const again = await openStore({ driver: 'sqlite', path });
    await again.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('refuses a database written by a newer version, saying so', async () => {
    const path = freshPath();
    const store = await openStore({ driver: 'sqlite', path });
    await store.close();
    const db = new DatabaseSync(path);
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
      MIGRATIONS.length + 1,
      new Date().toISOString(),
    );
    db.close();
    await assert.rejects(openStore({ driver: 'sqlite', path }), (err: unknown) => {
      assert.ok(err instanceof StoreOpenError);
      assert.match(
        err.message,
        new RegExp(
          `schema version ${MIGRATIONS.length + 1}, newer than this Portcullis knows \\(${MIGRATIONS.length}\\)`,
        ),
      );
      return true;
    });
  });

  it('gives a clear error for a file that is not a SQLite database, and leaves it untouched', async () => {
    const path = freshPath();
    await openStore({ driver: 'sqlite', path }).then((s) => s.close());
    const junk = Buffer.from('this is not a database, just some text that is long enough '.repeat(50));
    writeFileSync(path, junk);
    rmSync(`${path}-wal`, { force: true });
    rmSync(`${path}-shm`, { force: true });
    await assert.rejects(openStore({ driver: 'sqlite', path }), (err: unknown) => {
      assert.ok(err instanceof StoreOpenError);
      assert.match(err.message, /is not a SQLite database or is corrupted/);
      assert.ok(err.message.includes(path));
      return true;
    });
    assert.deepEqual(readFileSync(path), junk);
  });

  it('flushes queued records on close and reports records it could not write', async () => {
    const path = freshPath();
    const lost: number[] = [];
    const store = createSqliteStore({ path, batchWindowMs: 60_000, onWriteError: (_e, count) => lost.push(count) });
    await store.init();
    const dup = sampleRequestRecord();
    await store.insertRequestRecord(dup);
    await store.insertRequestRecord(sampleRequestRecord());
    await store.insertRequestRecord(dup);
    await store.close();
    assert.deepEqual(lost, [1], 'only the duplicate is lost, not its batch');
    const again = createSqliteStore({ path });
    await again.init();
    assert.equal((await again.listRequestRecords({ limit: 10 })).length, 2);
    await again.close();
  });

  it('fails init, not the process, when the folder cannot be created', async () => {
    const blocker = join(root, `file-${++n}`);
    writeFileSync(blocker, 'x');
    await assert.rejects(openStore({ driver: 'sqlite', path: join(blocker, 'sub', 'store.db') }), StoreOpenError);
  });
});
