/**
 * Retention: old records are pruned only in whole signed ranges, behind a signed anchor that
 * verify starts from; pruning never opens a way to delete records unnoticed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openAuditLog } from './audit-log.ts';
import { openAuditDatabaseForWriting } from './database.ts';
import { anchorMessage, pruneAnchors, pruneAuditLog } from './retention.ts';
import { createSigner, parsePrivateKeyPem } from './signing-key.ts';
import { entry, newKeyPem, openTestLog, publicKeyOf, tamper, tempDir, verifyFile } from './test-support.ts';

const CLI = join(import.meta.dirname, '..', 'cli', 'main.ts');
const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
const pem = newKeyPem();
const trusted = [publicKeyOf(pem)];
const signer = createSigner(parsePrivateKeyPem(pem, 'test'));
const OLD = '2020-01-01T00:00:00.000Z';
const CUTOFF = new Date('2021-01-01T00:00:00Z');
let n = 0;

/** `old` records from 2020, then `recent` from now; checkpoints every 4; closed (all signed) unless `open`. */
async function makeLog(old: number, recent: number, opts: { open?: boolean } = {}) {
  const path = join(dir, `case-${++n}`, 'audit.db');
  const log = await openTestLog(path, pem, { checkpointEvery: 4 });
  for (let i = 1; i <= old; i++) await log.append(entry(i, { time: OLD }));
  for (let i = old + 1; i <= old + recent; i++) await log.append(entry(i));
  if (!opts.open) await log.close();
  return { path, log };
}

function prune(path: string, opts: { maxPerTransaction?: number } = {}) {
  const db = openAuditDatabaseForWriting(path);
  try {
    return pruneAuditLog(db, signer, CUTOFF, opts);
  } finally {
    db.close();
  }
}

test('prunes whole checkpointed ranges older than the cutoff; verify starts from the anchor', async () => {
  const { path } = await makeLog(10, 3); // checkpoints at 4, 8, 12, and 13 on close
  const r = prune(path);
  assert.deepEqual(r, { records: 8, throughSeq: 8, anchors: 1 }); // 9 and 10 are old but share a range with 11–12
  const v = verifyFile(path, trusted);
  assert.equal(v.ok, true, v.finding?.message);
  assert.equal(v.prunedThroughSeq, 8);
  assert.equal(v.records, 5);
  assert.deepEqual(prune(path), { records: 0, throughSeq: 8, anchors: 0 }, 'a second prune finds nothing more');
});

test('never prunes records no checkpoint has signed yet', async () => {
  const { path, log } = await makeLog(10, 0, { open: true }); // signed up to 8; 9–10 unsigned
  assert.equal(prune(path).throughSeq, 8);
  await log.append(entry(11));
  await log.close();
  const v = verifyFile(path, trusted);
  assert.equal(v.ok, true, v.finding?.message);
  assert.equal(v.head.seq, 11);
});

test('a log pruned down to nothing continues its chain from the anchor', async () => {
  const { path } = await makeLog(8, 0);
  assert.equal(prune(path).records, 8);
  assert.equal(verifyFile(path, trusted).ok, true);
  const log = await openTestLog(path, pem, { checkpointEvery: 4 });
  await log.append(entry(9));
  await log.close();
  const v = verifyFile(path, trusted);
  assert.equal(v.ok, true, v.finding?.message);
  assert.equal(v.head.seq, 9);
  assert.equal(v.checkpoints, 1);
});

test('large prunes go in bounded transactions, each with its own anchor', async () => {
  const { path } = await makeLog(16, 1);
  const r = prune(path, { maxPerTransaction: 4 });
  assert.deepEqual(r, { records: 16, throughSeq: 16, anchors: 4 });
  assert.equal(verifyFile(path, trusted).ok, true);
});

test('attacks after a prune are still caught at the exact record', async (t) => {
  const setup = async () => {
    const { path } = await makeLog(8, 6);
    prune(path);
    return path;
  };
  await t.test('deleting the first record after the anchor', async () => {
    const path = await setup();
    tamper(path, (db) => db.exec('DELETE FROM audit_records WHERE seq = 9'));
    const v = verifyFile(path, trusted);
    assert.equal(v.finding?.kind, 'deleted');
    assert.equal(v.finding?.seq, 9);
  });
  await t.test('deleting the anchor (to hide the pruned range)', async () => {
    const path = await setup();
    tamper(path, (db) => {
      db.exec('DROP TRIGGER audit_prunes_no_delete');
      db.exec('DELETE FROM audit_prunes');
    });
    const v = verifyFile(path, trusted);
    assert.equal(v.finding?.kind, 'deleted');
    assert.equal(v.finding?.seq, 1);
  });
  await t.test('moving the anchor forward to cover a deletion', async () => {
    const path = await setup();
    tamper(path, (db) => {
      db.exec('DROP TRIGGER audit_prunes_no_update');
      const h = String(db.prepare('SELECT hash FROM audit_records WHERE seq = 10').get()!.hash);
      db.prepare('UPDATE audit_prunes SET through_seq = 10, through_hash = ?').run(h);
      db.exec('DELETE FROM audit_records WHERE seq <= 10');
    });
    const v = verifyFile(path, trusted);
    assert.equal(v.finding?.kind, 'anchor_invalid');
    assert.match(v.finding!.message, /invalid signature/);
  });
  await t.test('an anchor signed with another key', async () => {
    const path = await setup();
    const other = createSigner(generateKeyPairSync('ed25519').privateKey);
    tamper(path, (db) => {
      db.exec('DROP TRIGGER audit_prunes_no_update');
      const a = pruneAnchors(db)[0]!;
      db.prepare('UPDATE audit_prunes SET public_key = ?, signature = ?').run(
        other.publicKey,
        other.sign(anchorMessage(a)),
      );
    });
    const v = verifyFile(path, trusted);
    assert.equal(v.finding?.kind, 'anchor_invalid');
    assert.match(v.finding!.message, /not a trusted/);
  });
});

test('the anchor table is append-only through SQLite', async () => {
  const { path } = await makeLog(8, 1);
  prune(path);
  const db = openAuditDatabaseForWriting(path);
  try {
    assert.throws(() => db.exec('DELETE FROM audit_prunes'), /append-only/);
    assert.throws(
      () => db.exec('DELETE FROM audit_records'),
      /append-only/,
      'the record triggers are back after a prune',
    );
  } finally {
    db.close();
  }
});

test('audit.retention_days prunes when the log opens, and records the prune in the chain', async () => {
  const { path } = await makeLog(8, 0);
  const log = await openAuditLog({
    path,
    signingKeyPem: pem,
    checkpointEvery: 4,
    checkpointIntervalMs: 3_600_000,
    retentionDays: 30,
  });
  let v = verifyFile(path, trusted);
  for (let i = 0; i < 200 && v.prunedThroughSeq === 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
    v = verifyFile(path, trusted);
  }
  await log.close();
  v = verifyFile(path, trusted);
  assert.equal(v.ok, true, v.finding?.message);
  assert.equal(v.prunedThroughSeq, 8);
  const db = openAuditDatabaseForWriting(path);
  try {
    const rec = db.prepare("SELECT seq, actor_kind, metadata FROM audit_records WHERE action = 'audit.prune'").get();
    assert.equal(rec?.seq, 9);
    assert.equal(rec?.actor_kind, 'system');
    assert.match(String(rec?.metadata), /"records":8/);
  } finally {
    db.close();
  }
});

test('portcullis audit prune: refuses recent cutoffs, prunes old signed ranges, verify still passes', async () => {
  const dataDir = join(dir, `cli-${++n}`);
  const signingPem = newKeyPem();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'audit-signing.key'), signingPem, { mode: 0o600 });
  const log = await openTestLog(join(dataDir, 'audit.db'), signingPem, { checkpointEvery: 4 });
  for (let i = 1; i <= 8; i++) await log.append(entry(i, { time: OLD }));
  await log.append(entry(9));
  await log.close();
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, 'audit', ...args, '--data-dir', dataDir], { encoding: 'utf8' });
  const recent = cli('prune', '--before', new Date().toISOString());
  assert.equal(recent.status, 2, recent.stderr);
  assert.match(recent.stderr, /at least 30 days ago/);
  assert.equal(cli('prune').status, 2);
  const ok = cli('prune', '--before', '2021-01-01');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /Pruned 8 record\(s\)/);
  const verify = cli('verify');
  assert.equal(verify.status, 0, verify.stderr);
  assert.match(verify.stdout, /pruned by retention/);
});
