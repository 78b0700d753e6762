/**
 * audit.durability on the SQLite writer: `fsync` commits with `synchronous = FULL` and never
 * needs a flush of its own; `relaxed` commits with `synchronous = NORMAL` and fsyncs the WAL once
 * per `relaxedFlushMs` after the first commit not yet flushed, and at close. The fsync is
 * observed through the writer's test hook; what the pragma is, through a connection opened the
 * way the writer opens its own.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { openAuditDatabaseForWriting } from './database.ts';
import { prepareEntry } from './prepare-entry.ts';
import { entry, newKeyPem, publicKeyOf, tempDir, verifyFile } from './test-support.ts';
import { runWriter, type WriterInit, type WriterReply, type WriterRequest } from './writer.ts';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
const pem = newKeyPem();

test('the writer opens the log with synchronous FULL by default and NORMAL when relaxed', () => {
  const synchronous = (durability?: 'fsync' | 'relaxed') => {
    const db = openAuditDatabaseForWriting(join(dir, `pragma-${durability ?? 'default'}`, 'audit.db'), durability);
    try {
      return (db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous;
    } finally {
      db.close();
    }
  };
  // SQLite's numbering: 1 NORMAL, 2 FULL.
  assert.equal(synchronous(), 2);
  assert.equal(synchronous('fsync'), 2);
  assert.equal(synchronous('relaxed'), 1);
});

/** A writer on a message channel in this thread, as `audit.writer: inline` runs it. */
function startWriter(init: Partial<WriterInit> & { path: string }, fsyncFile?: (path: string) => void) {
  const { port1, port2 } = new MessageChannel();
  const replies: WriterReply[] = [];
  const waiting = new Map<number, () => void>();
  port1.on('message', (msg: WriterReply) => {
    replies.push(msg);
    if (msg.type === 'done') waiting.get(msg.id)?.();
  });
  runWriter(
    port2,
    { signingKeyPem: pem, checkpointEvery: 1000, checkpointIntervalMs: 3_600_000, ...init },
    fsyncFile === undefined ? {} : { fsyncFile },
  );
  let id = 0;
  const send = (msg: (n: number) => WriterRequest) =>
    new Promise<WriterReply>((resolve) => {
      const n = ++id;
      waiting.set(n, () => resolve(replies.find((r) => r.type === 'done' && r.id === n)!));
      port1.postMessage(msg(n));
    });
  return {
    replies,
    append: (i: number) => send((n) => ({ op: 'append', id: n, entries: [prepareEntry(entry(i))] })),
    close: async () => {
      await send((n) => ({ op: 'close', id: n }));
      port1.close();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('relaxed: one fsync of the WAL per interval after commits, none while idle, and one at close', async () => {
  const path = join(dir, 'relaxed', 'audit.db');
  const synced: string[] = [];
  const w = startWriter({ path, relaxedFlushMs: 150 }, (p) => synced.push(p));
  for (let i = 1; i <= 5; i++) assert.equal((await w.append(i)).type, 'done');
  // Acknowledged before any fsync: the commit is with the OS, the flush comes within the interval.
  assert.deepEqual(synced, []);
  await sleep(400);
  assert.deepEqual(synced, [`${path}-wal`], 'the five commits shared one flush');
  await sleep(300);
  assert.equal(synced.length, 1, 'no commit, no flush');
  await w.append(6);
  await w.close();
  assert.equal(synced.length, 2, 'close flushes what was committed since');
  const result = verifyFile(path, [publicKeyOf(pem)]);
  assert.equal(result.ok, true, result.finding?.message);
  assert.equal(result.records, 6);
});

test('fsync durability never needs a flush of its own: every commit was already synced', async () => {
  const path = join(dir, 'fsync', 'audit.db');
  const synced: string[] = [];
  const w = startWriter({ path }, (p) => synced.push(p));
  for (let i = 1; i <= 3; i++) await w.append(i);
  await sleep(100);
  await w.close();
  assert.deepEqual(synced, []);
  assert.equal(verifyFile(path, [publicKeyOf(pem)]).records, 3);
});

test('relaxed: a failed fsync is reported (never silently dropped) and retried after the next commit', async () => {
  const path = join(dir, 'relaxed-eio', 'audit.db');
  let calls = 0;
  const w = startWriter({ path, relaxedFlushMs: 20 }, () => {
    calls++;
    if (calls === 1) throw Object.assign(new Error('I/O error'), { code: 'EIO' });
  });
  await w.append(1);
  await sleep(150);
  const warnings = w.replies.filter((r) => r.type === 'warning');
  assert.equal(warnings.length, 1);
  assert.match((warnings[0] as { error: string }).error, /fsync failed \(EIO\).*may not be on disk/);
  await w.append(2);
  await sleep(150);
  assert.equal(calls, 2, 'the next commit brought another flush');
  await w.close();
  assert.equal(verifyFile(path, [publicKeyOf(pem)]).records, 2);
});

test('relaxed with the real fsync: the WAL is flushed without a warning, and the log verifies', async () => {
  const path = join(dir, 'relaxed-real', 'audit.db');
  const w = startWriter({ path, relaxedFlushMs: 10 });
  for (let i = 1; i <= 4; i++) await w.append(i);
  await sleep(100);
  await w.append(5);
  await w.close();
  assert.deepEqual(
    w.replies.filter((r) => r.type === 'warning'),
    [],
  );
  const result = verifyFile(path, [publicKeyOf(pem)]);
  assert.equal(result.ok, true, result.finding?.message);
  assert.equal(result.records, 5);
});
