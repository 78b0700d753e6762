import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { checkpointMessage } from './canonical.ts';
import { openAuditDatabaseForReading } from './database.ts';
import { CHECKPOINT_COLUMNS, RECORD_COLUMNS, toCheckpoint, toRecord } from './rows.ts';
import { verifySignature } from './signing-key.ts';
import { entry, newKeyPem, openTestLog, publicKeyOf, tamper, tempDir, verifyFile, writeLog } from './test-support.ts';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
const pem = newKeyPem();

test('append → verify round trip: a gapless chain, owner-only file, exact fields', async () => {
  const path = join(dir, 'round-trip', 'audit.db');
  const log = await openTestLog(path, pem);
  await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(entry(i + 1))));
  await log.append(
    entry(51, {
      decision: 'refused',
      reason: 'auth.invalid_key',
      actor: { kind: 'anonymous', id: null, tenant: null },
      action: 'auth.failure',
    }),
  );
  await log.close();
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'round-trip')).mode & 0o777, 0o700);

  const result = verifyFile(path, [publicKeyOf(pem)]);
  assert.equal(result.ok, true, result.finding?.message);
  assert.equal(result.records, 51);
  assert.equal(result.head.seq, 51);
  assert.equal(result.unsignedRecords, 0, 'close signs the final head');

  const db = openAuditDatabaseForReading(path);
  const rows = db.prepare(`SELECT ${RECORD_COLUMNS} FROM audit_records ORDER BY seq`).all().map(toRecord);
  db.close();
  assert.deepEqual(
    rows.map((r) => r.seq),
    Array.from({ length: 51 }, (_, i) => i + 1),
  );
  const last = rows[50]!;
  assert.deepEqual(
    {
      actorKind: last.actorKind,
      actorId: last.actorId,
      action: last.action,
      decision: last.decision,
      reason: last.reason,
    },
    { actorKind: 'anonymous', actorId: null, action: 'auth.failure', decision: 'refused', reason: 'auth.invalid_key' },
  );
  assert.equal(rows[1]!.prevHash, rows[0]!.hash);
});

test('checkpoints are signed every N records and verify with the public key', async () => {
  const path = join(dir, 'checkpoints', 'audit.db');
  const log = await openTestLog(path, pem, { checkpointEvery: 10 });
  await Promise.all(Array.from({ length: 25 }, (_, i) => log.append(entry(i + 1))));
  assert.equal(verifyFile(path, [publicKeyOf(pem)]).lastCheckpointSeq, 20, 'two checkpoints inside the batch');
  assert.equal(verifyFile(path, [publicKeyOf(pem)]).unsignedRecords, 5);
  await log.checkpoint();
  await log.close();
  const db = openAuditDatabaseForReading(path);
  const cps = db.prepare(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY id`).all().map(toCheckpoint);
  db.close();
  assert.deepEqual(
    cps.map((c) => [c.fromSeq, c.seq]),
    [
      [1, 10],
      [11, 20],
      [21, 25],
    ],
  );
  for (const cp of cps) {
    assert.equal(cp.publicKey, publicKeyOf(pem));
    assert.ok(verifySignature(cp.publicKey, checkpointMessage(cp), cp.signature));
    assert.equal(verifySignature(cp.publicKey, checkpointMessage({ ...cp, seq: cp.seq + 1 }), cp.signature), false);
  }
});

test('a checkpoint signed by another key is detected', async () => {
  const path = join(dir, 'wrong-key', 'audit.db');
  await writeLog(path, pem, 8, { checkpointEvery: 4 });
  const other = newKeyPem();
  const result = verifyFile(path, [publicKeyOf(other)]);
  assert.equal(result.ok, false);
  assert.equal(result.finding?.kind, 'checkpoint_untrusted');
  assert.equal(result.finding?.seq, 1);

  // A writer with the wrong key appends to a log whose earlier checkpoints are trusted.
  await writeLog(path, other, 4, { checkpointEvery: 4 });
  const mixed = verifyFile(path, [publicKeyOf(pem)]);
  assert.equal(mixed.finding?.kind, 'checkpoint_untrusted');
  assert.equal(mixed.finding?.seq, 9);
  assert.equal(verifyFile(path, [publicKeyOf(pem), publicKeyOf(other)]).ok, true, 'both keys trusted (key rotation)');
});

test('a forged signature is detected', async () => {
  const path = join(dir, 'bad-sig', 'audit.db');
  await writeLog(path, pem, 8, { checkpointEvery: 4 });
  tamper(path, (db) => {
    const sig = Buffer.from(
      String(db.prepare('SELECT signature FROM audit_checkpoints WHERE id = 2').get()?.signature),
      'base64',
    );
    sig[0] = sig[0]! ^ 1;
    db.prepare('UPDATE audit_checkpoints SET signature = ? WHERE id = 2').run(sig.toString('base64'));
  });
  const result = verifyFile(path, [publicKeyOf(pem)]);
  assert.equal(result.finding?.kind, 'checkpoint_bad_signature');
  assert.equal(result.finding?.seq, 5);
});

test('two writers on one file (gateway and CLI) keep one gapless chain', async () => {
  const path = join(dir, 'two-writers', 'audit.db');
  const a = await openTestLog(path, pem, { checkpointEvery: 7 });
  const b = await openTestLog(path, pem, { checkpointEvery: 7 });
  await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).append(entry(i))));
  await Promise.all([a.close(), b.close()]);
  const result = verifyFile(path, [publicKeyOf(pem)]);
  assert.equal(result.ok, true, result.finding?.message);
  assert.equal(result.records, 60);
});

test('SQLite itself refuses UPDATE and DELETE on records', async () => {
  const path = join(dir, 'triggers', 'audit.db');
  await writeLog(path, pem, 2);
  const db = new DatabaseSync(path);
  assert.throws(() => db.exec("UPDATE audit_records SET target = 'x'"), /append-only/);
  assert.throws(() => db.exec('DELETE FROM audit_records'), /append-only/);
  assert.throws(() => db.exec('DELETE FROM audit_checkpoints'), /append-only/);
  db.close();
});

/** Appends record 1, record 2 while another connection holds the write lock (it must reject),
 *  then record 3, and closes the log. */
async function appendAroundALock(path: string, opts: Parameters<typeof openTestLog>[2] = {}): Promise<void> {
  const log = await openTestLog(path, pem, opts);
  await log.append(entry(1));
  const holder = new DatabaseSync(path);
  holder.exec('BEGIN EXCLUSIVE');
  try {
    await assert.rejects(log.append(entry(2)), { name: 'AuditUnavailableError', message: /audit write failed/ });
  } finally {
    holder.exec('ROLLBACK');
    holder.close();
  }
  await log.append(entry(3));
  await log.close();
}

test('append rejects when the record cannot be committed, and recovers after', async () => {
  const path = join(dir, 'locked', 'audit.db');
  await appendAroundALock(path);
  const result = verifyFile(path, [publicKeyOf(pem)]);
  assert.equal(result.ok, true);
  assert.equal(result.records, 2, 'the failed record left no gap');
});

test('a bad entry rejects its own append only; a closed log rejects appends', async () => {
  const path = join(dir, 'bad-entry', 'audit.db');
  const log = await openTestLog(path, pem);
  await assert.rejects(log.append(entry(1, { action: 'NOT VALID' })), /action/);
  await log.append(entry(2));
  await log.close();
  await assert.rejects(log.append(entry(3)), { name: 'AuditUnavailableError' });
  assert.equal(log.healthy(), false);
});

test('opening fails at startup for a file that is not an audit log or a bad key', async () => {
  const path = join(dir, 'foreign.db');
  const db = new DatabaseSync(path);
  db.exec('CREATE TABLE t (a); PRAGMA user_version = 7');
  db.close();
  await assert.rejects(openTestLog(path, pem), /audit schema version 7/);
  await assert.rejects(openTestLog(join(dir, 'x', 'audit.db'), 'not a key'), /not a PEM private key/);
});

test('audit.writer inline: the same chain on the main thread, committed before append resolves', async () => {
  const path = join(dir, 'inline', 'audit.db');
  const log = await openTestLog(path, pem, { checkpointEvery: 10, writer: 'inline' });
  await Promise.all(Array.from({ length: 25 }, (_, i) => log.append(entry(i + 1))));
  await log.append(entry(26));
  // Committed (not merely queued) once append resolves: another connection reads it at once.
  const reader = openAuditDatabaseForReading(path);
  assert.equal((reader.prepare('SELECT count(*) AS n FROM audit_records').get() as { n: number }).n, 26);
  reader.close();
  assert.equal(verifyFile(path, [publicKeyOf(pem)], { allowUnsignedTail: true }).lastCheckpointSeq, 20);
  await log.close();
  assert.equal(log.healthy(), false);
  await assert.rejects(log.append(entry(27)), { name: 'AuditUnavailableError' });
  const result = verifyFile(path, [publicKeyOf(pem)]);
  assert.equal(result.ok, true, result.finding?.message);
  assert.equal(result.records, 26);
  assert.equal(result.unsignedRecords, 0, 'close signs the final head');
});

test('audit.writer inline: a failed commit rejects the append; a bad file fails the open', async () => {
  const path = join(dir, 'inline-locked', 'audit.db');
  await appendAroundALock(path, { writer: 'inline' });
  assert.equal(verifyFile(path, [publicKeyOf(pem)]).records, 2);
  await assert.rejects(openTestLog(join(dir, 'foreign.db'), pem, { writer: 'inline' }), /audit schema version 7/);
});
