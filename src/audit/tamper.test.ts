/**
 * Attacks on the audit file: each opens the SQLite file directly (as someone with write access
 * to the disk would, dropping the append-only triggers first) and expects verify to name the
 * exact record that was altered, deleted or inserted.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { after, beforeEach, test } from 'node:test';
import { GENESIS_HASH, recordHash } from './canonical.ts';
import { createChainWriter } from './chain-writer.ts';
import { openAuditDatabaseForWriting } from './database.ts';
import { prepareEntry } from './prepare-entry.ts';
import { RECORD_COLUMNS, toRecord } from './rows.ts';
import { createSigner, parsePrivateKeyPem } from './signing-key.ts';
import { entry, newKeyPem, openTestLog, publicKeyOf, tamper, tempDir, verifyFile, writeLog } from './test-support.ts';
import type { AuditRecord } from './types.ts';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
const pem = newKeyPem();
const trusted = [publicKeyOf(pem)];
let n = 0;
let path = '';

// 12 records; checkpoints signed at seq 4, 8 and 12 (the last one by close).
beforeEach(async () => {
  path = join(dir, `case-${++n}`, 'audit.db');
  await writeLog(path, pem, 12, { checkpointEvery: 4 });
  assert.equal(verifyFile(path, trusted).ok, true);
});

function records(db: DatabaseSync): AuditRecord[] {
  return db.prepare(`SELECT ${RECORD_COLUMNS} FROM audit_records ORDER BY seq`).all().map(toRecord);
}

/** Moves records with seq ≥ from by delta (via negative seqs, so the primary key never collides). */
function renumber(db: DatabaseSync, from: number, delta: number): void {
  db.prepare('UPDATE audit_records SET seq = -(seq + ?) WHERE seq >= ?').run(delta, from);
  db.exec('UPDATE audit_records SET seq = -seq WHERE seq < 0');
}

/** Recomputes prev_hash and hash of every record from `from` on, as a careful attacker would. */
function rechain(db: DatabaseSync, from: number): void {
  const update = db.prepare('UPDATE audit_records SET prev_hash = ?, hash = ? WHERE seq = ?');
  let prev = GENESIS_HASH;
  for (const r of records(db)) {
    if (r.seq >= from) {
      const hash = recordHash(r.seq, r, prev);
      update.run(prev, hash, r.seq);
      prev = hash;
    } else prev = r.hash;
  }
}

test('(a) one field of record 5 changed in place → altered at 5', () => {
  tamper(path, (db) => db.exec("UPDATE audit_records SET decision = 'refused' WHERE seq = 5"));
  const r = verifyFile(path, trusted);
  assert.equal(r.ok, false);
  assert.deepEqual([r.finding?.kind, r.finding?.seq], ['altered', 5]);
  assert.match(r.finding!.message, /record 5 was altered/);
});

test('(b) record 5 deleted → deleted at 5', () => {
  tamper(path, (db) => db.exec('DELETE FROM audit_records WHERE seq = 5'));
  const r = verifyFile(path, trusted);
  assert.deepEqual([r.finding?.kind, r.finding?.seq], ['deleted', 5]);
  assert.match(r.finding!.message, /record 5 is missing: the chain jumps from seq 4 to seq 6/);
});

test('(b2) record 5 deleted and later records renumbered to close the gap → deleted at 5', () => {
  tamper(path, (db) => {
    db.exec('DELETE FROM audit_records WHERE seq = 5');
    renumber(db, 6, -1);
  });
  const r = verifyFile(path, trusted);
  assert.deepEqual([r.finding?.kind, r.finding?.seq], ['deleted', 5]);
});

test('(c) a forged record inserted between 4 and 5, with a correct hash and link → inserted at 5', () => {
  tamper(path, (db) => {
    const four = records(db)[3]!;
    renumber(db, 5, 1);
    const forged = { ...four, seq: 5, actorId: 'key_attacker', requestId: 'req-forged', prevHash: four.hash };
    const hash = recordHash(5, forged, four.hash);
    db.prepare(`INSERT INTO audit_records (${RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      5,
      forged.time,
      forged.actorKind,
      forged.actorId,
      forged.actorTenant,
      forged.action,
      forged.target,
      forged.decision,
      forged.reason,
      forged.requestId,
      forged.metadata,
      four.hash,
      hash,
    );
  });
  const r = verifyFile(path, trusted);
  assert.deepEqual([r.finding?.kind, r.finding?.seq], ['inserted', 5]);
  assert.match(r.finding!.message, /record 5 was inserted/);
});

test('(d) record 5 edited and the whole chain recomputed → the signed checkpoint names 5', () => {
  tamper(path, (db) => {
    db.exec("UPDATE audit_records SET target = 'gpt-secret-model' WHERE seq = 5");
    rechain(db, 5);
  });
  const r = verifyFile(path, trusted);
  assert.deepEqual([r.finding?.kind, r.finding?.seq], ['rewritten', 5]);
  assert.match(r.finding!.message, /record 5 differs from what checkpoint #2 \(seq 8\) signed/);
});

test("(d2) chain recomputed and every checkpoint re-signed with the attacker's key → untrusted key", () => {
  const attacker = newKeyPem();
  tamper(path, (db) => {
    db.exec("UPDATE audit_records SET target = 'x' WHERE seq = 5");
    rechain(db, 5);
    db.exec('DELETE FROM audit_checkpoints');
  });
  // The attacker's own writer signs a checkpoint over the rewritten chain.
  return writeLog(path, attacker, 0).then(() => {
    const r = verifyFile(path, trusted);
    assert.deepEqual([r.finding?.kind, r.finding?.seq], ['checkpoint_untrusted', 1]);
  });
});

test('(e) the tail cut below the last signed checkpoint → truncated, naming the first missing record', () => {
  tamper(path, (db) => db.exec('DELETE FROM audit_records WHERE seq > 9'));
  const r = verifyFile(path, trusted);
  assert.deepEqual([r.finding?.kind, r.finding?.seq], ['truncated', 10]);
  assert.match(
    r.finding!.message,
    /chain ends at seq 9 but checkpoint #3 \(seq 12\) signed records up to 12: records 10–12 were removed/,
  );
});

test('(g) a forged record appended after the last checkpoint, correctly chained → unsigned tail, verify fails', () => {
  tamper(path, (db) => {
    const last = records(db).at(-1)!;
    const forged = {
      ...last,
      seq: 13,
      actorId: 'key_attacker',
      requestId: 'req-forged',
      target: 'gpt-forged',
      prevHash: last.hash,
    };
    const hash = recordHash(13, forged, last.hash);
    db.prepare(`INSERT INTO audit_records (${RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      13,
      forged.time,
      forged.actorKind,
      forged.actorId,
      forged.actorTenant,
      forged.action,
      forged.target,
      forged.decision,
      forged.reason,
      forged.requestId,
      forged.metadata,
      last.hash,
      hash,
    );
  });
  const r = verifyFile(path, trusted);
  assert.equal(r.ok, false, 'nothing signs the forged record, so it must not verify');
  assert.deepEqual(
    [r.finding?.kind, r.finding?.seq, r.unsignedRecords, r.lastCheckpointSeq],
    ['unsigned_tail', 13, 1, 12],
  );
  assert.match(
    r.finding!.message,
    /record 13 comes after the last signed checkpoint \(seq 12\).*may be forged.*--allow-unsigned-tail/,
  );
  // Accepting an unsigned tail is an explicit choice, and the count still says what is unsigned.
  const accepted = verifyFile(path, trusted, { allowUnsignedTail: true });
  assert.deepEqual([accepted.ok, accepted.unsignedRecords], [true, 1]);
});

/** Appends records the way a process killed before its next checkpoint leaves them: chained, unsigned. */
function appendUnsigned(count: number): void {
  const db = openAuditDatabaseForWriting(path);
  try {
    createChainWriter(db, createSigner(parsePrivateKeyPem(pem, 'k')), 1000).append(
      Array.from({ length: count }, (_, i) => prepareEntry(entry(100 + i))),
    );
  } finally {
    db.close();
  }
}

test('(g2) a tail a crashed run left unsigned is signed by the next open', async () => {
  appendUnsigned(3);
  assert.equal(verifyFile(path, trusted).finding?.kind, 'unsigned_tail');
  await (await openTestLog(path, pem)).close();
  const r = verifyFile(path, trusted);
  assert.deepEqual([r.ok, r.unsignedRecords, r.head.seq], [true, 0, 15]);
});

test('(g3) signing a broken unsigned tail does not hide it: verify still names the altered record', async () => {
  appendUnsigned(3);
  tamper(path, (db) => db.exec("UPDATE audit_records SET target = 'x' WHERE seq = 14"));
  const log = await openTestLog(path, pem);
  await log.close();
  const r = verifyFile(path, trusted);
  assert.deepEqual([r.finding?.kind, r.finding?.seq], ['altered', 14]);
});

test('(f) a checkpoint deleted from the middle → checkpoint missing', () => {
  tamper(path, (db) => db.exec('DELETE FROM audit_checkpoints WHERE id = 2'));
  const r = verifyFile(path, trusted);
  assert.deepEqual([r.finding?.kind, r.finding?.seq], ['checkpoint_missing', 5]);
});
