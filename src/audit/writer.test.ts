/**
 * audit.durability on the SQLite writer: `fsync` commits with `synchronous = FULL` and never
 * needs a flush of its own; `relaxed` commits with `synchronous = NORMAL` and fsyncs the WAL once
 * per `relaxedFlushMs` after the first commit not yet flushed, and at close. The fsync is
 * observed through the writer's test hook; what the pragma is, through a connection opened the
 * way the writer opens its own. On the event loop (`audit.writer: inline`) the fsync runs off
 * the loop and, with `fsync` durability, an append is answered only after it returns.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { createChainWriter } from './chain-writer.ts';
import { openAuditDatabaseForWriting } from './database.ts';
import { prepareEntry } from './prepare-entry.ts';
import { pruneAnchors } from './retention.ts';
import { createSigner, parsePrivateKeyPem } from './signing-key.ts';
import { entry, newKeyPem, publicKeyOf, tempDir, verifyFile } from './test-support.ts';
import { runWriter, type WriterHooks, type WriterInit, type WriterReply, type WriterRequest } from './writer.ts';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
const pem = newKeyPem();

test('the log opens with synchronous FULL by default and NORMAL when asked', () => {
  const synchronous = (mode?: 'FULL' | 'NORMAL') => {
    const db = openAuditDatabaseForWriting(join(dir, `pragma-${mode ?? 'default'}`, 'audit.db'), mode);
    try {
      return (db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous;
    } finally {
      db.close();
    }
  };
  // SQLite's numbering: 1 NORMAL, 2 FULL.
  assert.equal(synchronous(), 2);
  assert.equal(synchronous('FULL'), 2);
  assert.equal(synchronous('NORMAL'), 1);
});

/** A writer on a message channel in this thread, as `audit.writer: inline` runs it. */
function startWriter(init: Partial<WriterInit> & { path: string }, hooks: WriterHooks | ((path: string) => void) = {}) {
  const { port1, port2 } = new MessageChannel();
  const replies: WriterReply[] = [];
  const waiting = new Map<number, () => void>();
  let closed = false;
  port1.on('close', () => {
    closed = true;
  });
  port1.on('message', (msg: WriterReply) => {
    replies.push(msg);
    if (msg.type === 'done') waiting.get(msg.id)?.();
  });
  runWriter(
    port2,
    { signingKeyPem: pem, checkpointEvery: 1000, checkpointIntervalMs: 3_600_000, ...init },
    typeof hooks === 'function' ? { fsyncFile: hooks } : hooks,
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
    closed: () => closed,
    /** Whether request `n` has been answered yet. */
    answered: (n: number) => replies.some((r) => r.type === 'done' && r.id === n),
    append: (i: number) => send((n) => ({ op: 'append', id: n, entries: [prepareEntry(entry(i))] })),
    close: async () => {
      await send((n) => ({ op: 'close', id: n }));
      port1.close();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The log at `path` verifies against the test key and holds `records` records. */
function assertVerifies(path: string, records: number): void {
  const result = verifyFile(path, [publicKeyOf(pem)]);
  assert.equal(result.ok, true, result.finding?.message);
  assert.equal(result.records, records);
}

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
  assertVerifies(path, 6);
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
  assertVerifies(path, 5);
});

/** An fsync the test finishes by hand: each call waits until the test resolves or fails it. */
function manualFsync() {
  const calls: Array<{ path: string; done: () => void; fail: (err: Error) => void }> = [];
  const fsyncFileAsync = (path: string) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ path, done: resolve, fail: reject });
    });
  const fsyncFile = (path: string) => {
    calls.push({ path, done: () => {}, fail: () => {} });
  };
  return { calls, hooks: { fsyncFileAsync, fsyncFile } satisfies WriterHooks };
}

test('inline: an append is answered only once an fsync started after its commit has returned, and commits made meanwhile share the next', async () => {
  const path = join(dir, 'inline-fsync', 'audit.db');
  const fsync = manualFsync();
  const w = startWriter({ path, onEventLoop: true }, fsync.hooks);
  const first = w.append(1);
  await sleep(30);
  assert.equal(fsync.calls.length, 1, 'the commit started an fsync of the WAL');
  assert.equal(fsync.calls[0]!.path, `${path}-wal`);
  assert.equal(w.answered(1), false, 'committed, not yet on disk: not answered');
  // Three more commits while the first fsync runs: none starts an fsync of its own.
  const more = [w.append(2), w.append(3), w.append(4)];
  await sleep(30);
  assert.equal(fsync.calls.length, 1);
  fsync.calls[0]!.done();
  assert.equal((await first).type, 'done');
  await sleep(30);
  assert.equal(fsync.calls.length, 2, 'one fsync for the three commits made while the first ran');
  assert.equal(w.answered(2) || w.answered(3) || w.answered(4), false);
  fsync.calls[1]!.done();
  for (const r of await Promise.all(more)) assert.deepEqual(r.type === 'done' && r.error, undefined);
  await w.close();
  assertVerifies(path, 4);
});

test('inline: a failed fsync refuses the records it covered and stops the writer (a later fsync would prove nothing)', async () => {
  const path = join(dir, 'inline-eio', 'audit.db');
  const fsync = manualFsync();
  const w = startWriter({ path, onEventLoop: true }, fsync.hooks);
  const first = w.append(1);
  await sleep(30);
  // Sent while the fsync runs: it waits to be committed after it.
  const second = w.append(2);
  await sleep(30);
  fsync.calls[0]!.fail(Object.assign(new Error('I/O error'), { code: 'EIO' }));
  const [a, b] = await Promise.all([first, second]);
  for (const r of [a, b])
    assert.match((r as { error?: string }).error ?? '', /fsync failed \(EIO\).*writer has stopped/);
  await sleep(30);
  assert.equal(w.closed(), true, 'the writer closed its end: the log refuses every append from here');
  assert.match(
    (w.replies.find((r) => r.type === 'warning') as { error: string }).error,
    /may not be on disk; the writer has stopped/,
  );
  assert.equal(fsync.calls.length, 1, 'nothing more was committed or flushed');
  assert.equal(verifyFile(path, [publicKeyOf(pem)]).records, 1);
});

test('inline: what arrives while an fsync runs is committed after it in one transaction; close flushes and answers the rest', async () => {
  const path = join(dir, 'inline-close', 'audit.db');
  const fsync = manualFsync();
  const w = startWriter({ path, onEventLoop: true }, fsync.hooks);
  const first = w.append(1);
  await sleep(30);
  const second = w.append(2);
  const third = w.append(3);
  const closing = w.close();
  await sleep(30);
  assert.equal(w.answered(1), false);
  fsync.calls[0]!.done();
  assert.equal((await first).type, 'done');
  // 2 and 3 were committed together once the fsync returned; their own fsync (started, and left
  // unfinished here) is overtaken by the close's, which answers them.
  for (const r of await Promise.all([second, third])) assert.equal((r as { error?: string }).error, undefined);
  await closing;
  assert.equal(fsync.calls.length, 3, 'the first fsync, the one for 2 and 3, and the close');
  assert.equal(fsync.calls.at(-1)!.path, `${path}-wal`);
  assertVerifies(path, 3);
});

test('inline: a write lock held by another process is waited for on timers, not by blocking the event loop', async () => {
  const path = join(dir, 'inline-busy', 'audit.db');
  const w = startWriter({ path, onEventLoop: true });
  await w.append(1);
  // Another connection (an `audit` CLI command, say) takes the write lock.
  const other = openAuditDatabaseForWriting(path);
  other.exec('BEGIN IMMEDIATE');
  const waiting = w.append(2);
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  await sleep(300);
  assert.equal(w.answered(2), false, 'still waiting for the lock');
  assert.ok(ticks >= 10, `the event loop kept running while the writer waited (${ticks} ticks)`);
  other.exec('COMMIT');
  assert.equal((await waiting).type, 'done');
  assert.equal(((await waiting) as { error?: string }).error, undefined);
  // Held past the 2 s the thread's busy timeout allows: the append is refused with SQLite's reason.
  other.exec('BEGIN IMMEDIATE');
  const refused = await w.append(3);
  clearInterval(ticker);
  other.exec('COMMIT');
  other.close();
  assert.match((refused as { error?: string }).error ?? '', /database is locked/);
  await w.close();
  assertVerifies(path, 2);
});

test('inline and relaxed: appends are answered at commit and the timed flush runs off the loop', async () => {
  const path = join(dir, 'inline-relaxed', 'audit.db');
  const fsync = manualFsync();
  const w = startWriter({ path, onEventLoop: true, relaxedFlushMs: 50 }, fsync.hooks);
  assert.equal((await w.append(1)).type, 'done');
  assert.equal(fsync.calls.length, 0, 'answered before any fsync');
  await sleep(150);
  assert.equal(fsync.calls.length, 1);
  fsync.calls[0]!.done();
  await w.close();
  assert.equal(verifyFile(path, [publicKeyOf(pem)]).records, 1);
});

test('inline with the real fsync: the log verifies and no warning is raised', async () => {
  const path = join(dir, 'inline-real', 'audit.db');
  const w = startWriter({ path, onEventLoop: true });
  const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => w.append(i)));
  for (const r of results) assert.equal((r as { error?: string }).error, undefined);
  await w.close();
  assert.deepEqual(
    w.replies.filter((r) => r.type === 'warning'),
    [],
  );
  assertVerifies(path, 6);
});

test('inline: retention prunes one bounded transaction per turn of the loop, then records the prune in the chain', async () => {
  const path = join(dir, 'inline-retention', 'audit.db');
  // 12,000 records from 2020, signed in ranges of 1,000: more than two of the prune's 5,000-record steps.
  const db = openAuditDatabaseForWriting(path);
  const chain = createChainWriter(db, createSigner(parsePrivateKeyPem(pem, 'test')), 1000);
  const old = '2020-01-01T00:00:00.000Z';
  for (let i = 0; i < 12; i++)
    chain.append(Array.from({ length: 1000 }, (_, j) => prepareEntry(entry(i * 1000 + j + 1, { time: old }))));
  db.close();
  const w = startWriter({ path, onEventLoop: true, retentionDays: 30 });
  let pruned: WriterReply | undefined;
  for (let i = 0; i < 100 && pruned === undefined; i++) {
    await sleep(50);
    pruned = w.replies.find((r) => r.type === 'pruned');
  }
  assert.deepEqual(pruned, { type: 'pruned', records: 12_000, throughSeq: 12_000 });
  await w.append(1);
  await w.close();
  const check = openAuditDatabaseForWriting(path);
  try {
    assert.equal(pruneAnchors(check).length, 3, 'three transactions: 5,000 + 5,000 + 2,000 records');
  } finally {
    check.close();
  }
  // What is left: the prune's own record and the append after it.
  assertVerifies(path, 2);
});
