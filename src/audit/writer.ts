/**
 * The audit writer: it owns the audit database, takes append, checkpoint and close requests
 * from a message port and answers on it. Messages that arrive while a commit is under way are
 * queued and committed together in the next transaction (group commit), so many concurrent
 * requests share one fsync. It runs on its own worker thread by default (writer-worker.ts),
 * or on the main thread with `audit.writer: inline` (audit-log.ts says what that trades).
 *
 * On the main thread nothing here may wait for the disk or for another process: commits use
 * `synchronous = NORMAL` (written to the WAL, not synced), and the WAL is fsynced through
 * libuv's thread pool; with `durability: fsync` an append is acknowledged only once an fsync
 * that started after its commit has returned, and every commit made while one fsync runs
 * shares the next. A write lock held by another process (an `audit` CLI command) is waited for
 * with timers, up to the same 2 s the thread's busy timeout allows.
 */

import { closeSync, fsyncSync, openSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { DatabaseSync } from 'node:sqlite';
import { type ChainWriter, createChainWriter } from './chain-writer.ts';
import { AUDIT_BUSY_TIMEOUT_MS, openAuditDatabaseForWriting } from './database.ts';
import { pruneEntry } from './prepare-entry.ts';
import { pruneAuditLogStep, prunedThrough } from './retention.ts';
import { type CheckpointSigner, createSigner, parsePrivateKeyPem } from './signing-key.ts';
import type { PreparedEntry } from './types.ts';

export interface WriterInit {
  readonly path: string;
  readonly signingKeyPem: string;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  /** Prune records older than this many days (whole signed ranges; retention.ts); undefined keeps all. */
  readonly retentionDays?: number | undefined;
  /** Set with `audit.durability: relaxed`: commits are acknowledged once made, and the WAL is
   *  fsynced this many ms after the first commit not yet flushed. Unset: acknowledged once on disk. */
  readonly relaxedFlushMs?: number | undefined;
  /** True with `audit.writer: inline`: the writer shares the gateway's event loop (see the top of this file). */
  readonly onEventLoop?: boolean | undefined;
}

/** For tests: how the writer puts a file on disk (default: open, fsync, close; off the loop when inline). */
export interface WriterHooks {
  readonly fsyncFile?: (path: string) => void;
  readonly fsyncFileAsync?: (path: string) => Promise<void>;
}

/** Puts what the OS holds of `path` on disk; a file that does not exist has nothing to flush. */
function fsyncFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    // fsync flushes the file's dirty pages whichever descriptor wrote them (SQLite's own).
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * fsync of one file on libuv's thread pool, so the event loop goes on while the disk works,
 * through a descriptor kept open between calls (one trip to the pool per fsync). The writer's
 * own connection keeps the WAL from being deleted (SQLite removes it when the last connection
 * closes), so the descriptor stays the file's; a file not there yet has nothing to flush.
 */
function backgroundFsync(path: string): { sync(): Promise<void>; close(): void } {
  let file: Promise<FileHandle | undefined> | undefined;
  return {
    async sync() {
      file ??= open(path, 'r').catch((err: NodeJS.ErrnoException) => {
        file = undefined;
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      await (await file)?.datasync();
    },
    close() {
      file?.then((f) => f?.close()).catch(() => {});
      file = undefined;
    },
  };
}

export type WriterRequest =
  | { readonly op: 'append'; readonly id: number; readonly entries: readonly PreparedEntry[] }
  | { readonly op: 'checkpoint'; readonly id: number }
  | { readonly op: 'close'; readonly id: number };

export type WriterReply =
  | { readonly type: 'ready'; readonly fingerprint: string }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'done'; readonly id: number; readonly error?: string }
  | { readonly type: 'warning'; readonly error: string }
  | { readonly type: 'pruned'; readonly records: number; readonly throughSeq: number }
  | { readonly type: 'tail_signed'; readonly records: number };

/** The side of a message channel the writer listens and answers on (a worker's parentPort, or a MessagePort). */
export interface WriterPort {
  on(event: 'message', listener: (msg: WriterRequest) => void): unknown;
  postMessage(msg: WriterReply): void;
  close(): void;
}

/** What `attempt` returns when another process holds the write lock and the writer should try again soon. */
const BUSY = Symbol('busy');
/** SQLite's primary result code for a lock another connection holds (extended codes keep it in the low byte). */
const SQLITE_BUSY = 5;
const isBusy = (err: unknown) => (((err as { errcode?: number }).errcode ?? 0) & 0xff) === SQLITE_BUSY;

/** Opens the database, reports `ready` (or `failed`) on the port, then serves it until `close`. */
export function runWriter(port: WriterPort, init: WriterInit, hooks: WriterHooks = {}): void {
  /** The id of requests the writer makes of itself (periodic checkpoints, retention records): never answered. */
  const INTERNAL = -1;
  const relaxed = init.relaxedFlushMs !== undefined;
  const onLoop = init.onEventLoop === true;
  /** On the event loop with durability fsync: a commit is acknowledged after the fsync that follows it. */
  const ackAfterFsync = onLoop && !relaxed;
  const syncFile = hooks.fsyncFile ?? fsyncFile;
  // The WAL holds every commit since the last checkpoint, and SQLite syncs the database file
  // itself when it checkpoints (with NORMAL as with FULL), so the WAL is what a commit needs on disk.
  const walPath = `${init.path}-wal`;
  const walInBackground = backgroundFsync(walPath);
  const syncFileAsync = hooks.fsyncFileAsync ?? (() => walInBackground.sync());
  /** Set while commits wait for the fsync that puts them on disk (relaxed durability only). */
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** ackAfterFsync: commits made since the last fsync began (ids to acknowledge; `dirty` also counts unacknowledged ones). */
  let unsynced: number[] = [];
  let dirty = false;
  /** ackAfterFsync: the ids the fsync under way will acknowledge; undefined when none runs. */
  let syncing: number[] | undefined;
  /** When the write lock was first found held by another process, for the current wait. */
  let busySince: number | undefined;
  let busyRetries = 0;
  let stopped = false;

  let db: DatabaseSync | undefined;
  let writer: ChainWriter | undefined;
  let signer: CheckpointSigner | undefined;
  try {
    signer = createSigner(parsePrivateKeyPem(init.signingKeyPem, 'audit.signing_key'));
    db = openAuditDatabaseForWriting(init.path, relaxed || onLoop ? 'NORMAL' : 'FULL');
    writer = createChainWriter(db, signer, init.checkpointEvery);
    // Records left unsigned by a process that did not shut down cleanly (kill -9, power loss):
    // sign them now rather than at the next interval, so verify passes without waiting for traffic.
    // A signature covers the stored hashes, so a tail that does not chain on is still named by verify.
    const signed = writer.checkpoint();
    if (signed > 0) {
      port.postMessage({ type: 'tail_signed', records: signed } satisfies WriterReply);
      committed([]);
    }
    // From here on the event loop never sleeps in SQLite's busy handler: drain retries on a timer.
    if (onLoop) db.exec('PRAGMA busy_timeout = 0');
    port.postMessage({ type: 'ready', fingerprint: signer.fingerprint } satisfies WriterReply);
  } catch (err) {
    port.postMessage({ type: 'failed', error: (err as Error).message } satisfies WriterReply);
  }

  const queue: WriterRequest[] = [];
  let scheduled = false;
  const timer = setInterval(() => enqueue({ op: 'checkpoint', id: INTERNAL }), init.checkpointIntervalMs);
  timer.unref();
  const RETENTION_EVERY_MS = 3_600_000;
  const retentionTimer = init.retentionDays === undefined ? undefined : setInterval(applyRetention, RETENTION_EVERY_MS);
  retentionTimer?.unref();
  if (init.retentionDays !== undefined && writer !== undefined) setImmediate(applyRetention);

  /**
   * Prunes what retention allows, one bounded transaction per turn of the event loop (appends
   * go on between them), and then records that it did, in the chain itself.
   */
  function applyRetention(): void {
    if (init.retentionDays === undefined) return;
    pruneSteps(new Date(Date.now() - init.retentionDays * 86_400_000), init.retentionDays, 0);
  }

  function pruneSteps(cutoff: Date, retentionDays: number, removed: number): void {
    if (stopped || db === undefined || signer === undefined) return;
    let step: number | undefined;
    try {
      step = pruneAuditLogStep(db, signer, cutoff);
    } catch (err) {
      // On the loop, another process holding the write lock defers the next step by a second.
      if (onLoop && isBusy(err)) setTimeout(() => pruneSteps(cutoff, retentionDays, removed), 1_000).unref();
      else reply({ type: 'warning', error: `audit retention prune failed: ${(err as Error).message}` });
      return;
    }
    if (step !== undefined) {
      committed([]);
      setImmediate(() => pruneSteps(cutoff, retentionDays, removed + step));
      return;
    }
    if (removed === 0) return;
    const throughSeq = prunedThrough(db);
    reply({ type: 'pruned', records: removed, throughSeq });
    // The prune's own record joins the queue, so a held write lock is waited for like any append's.
    const record = pruneEntry({
      records: removed,
      through_seq: throughSeq,
      cutoff: cutoff.toISOString(),
      retention_days: retentionDays,
    });
    enqueue({ op: 'append', id: INTERNAL, entries: [record] });
  }

  port.on('message', (msg: WriterRequest) => enqueue(msg));

  function enqueue(msg: WriterRequest): void {
    queue.push(msg);
    if (scheduled) return;
    // On the loop the log already hands over one batch per turn: committing it now saves the
    // whole loop iteration a second setImmediate would add before the record's commit.
    if (onLoop) drain();
    else {
      scheduled = true;
      setImmediate(drain);
    }
  }

  function drain(): void {
    scheduled = false;
    // While an fsync runs, what arrives waits for it and then goes in one commit (one fsync),
    // as the thread's appends wait for its synchronous commit: one transaction per fsync.
    if (stopped || syncing !== undefined) return;
    while (queue.length > 0) {
      const msg = queue[0]!;
      if (msg.op === 'append') {
        // Every append waiting now goes into one transaction, one fsync.
        let n = 1;
        while (n < queue.length && queue[n]!.op === 'append') n++;
        const appends = queue.slice(0, n) as Array<Extract<WriterRequest, { op: 'append' }>>;
        const error = attempt(() => writer!.append(appends.flatMap((a) => a.entries)));
        if (error === BUSY) {
          retryLater();
          return;
        }
        queue.splice(0, n);
        if (error)
          for (const a of appends)
            reply(
              a.id === INTERNAL
                ? { type: 'warning', error: `audit write failed: ${error}` }
                : { type: 'done', id: a.id, error },
            );
        else committed(appends.map((a) => a.id).filter((id) => id !== INTERNAL));
        continue;
      }
      const error = attempt(() => writer!.checkpoint());
      if (error === BUSY) {
        retryLater();
        return;
      }
      queue.shift();
      if (msg.op === 'checkpoint') {
        if (msg.id === INTERNAL) {
          if (error) reply({ type: 'warning', error: `periodic audit checkpoint failed: ${error}` });
          else committed([]);
        } else if (error) reply({ type: 'done', id: msg.id, error });
        else committed([msg.id]);
      } else {
        // close: the final head was signed above, so a clean shutdown leaves nothing unsigned.
        // What is committed goes to disk before the writer says it has closed.
        if (relaxed || onLoop) flushBeforeClose();
        stop();
        reply({ type: 'done', id: msg.id, ...(error ? { error } : {}) });
        port.close();
        return;
      }
    }
  }

  /** Another process holds the write lock: try the head of the queue again shortly (on the loop only). */
  function retryLater(): void {
    scheduled = true;
    setTimeout(drain, Math.min(2 ** busyRetries++, 50));
  }

  /** A commit (of the given request ids) was made: acknowledge it now, or once it is on disk. */
  function committed(ids: readonly number[]): void {
    if (ackAfterFsync) {
      for (const id of ids) unsynced.push(id);
      dirty = true;
      syncInBackground();
      return;
    }
    for (const id of ids) reply({ type: 'done', id });
    // Relaxed durability: a commit is on disk at most `relaxedFlushMs` after it was made.
    if (!relaxed || flushTimer !== undefined) return;
    flushTimer = setTimeout(relaxedFlush, init.relaxedFlushMs);
    // A process that exits without closing leaves the commits with the OS, which still writes them.
    flushTimer.unref();
  }

  /** ackAfterFsync: one fsync at a time; when it returns, its commits are acknowledged and the next starts. */
  function syncInBackground(): void {
    if (syncing !== undefined || !dirty || stopped) return;
    const ids = unsynced;
    syncing = ids;
    unsynced = [];
    dirty = false;
    syncFileAsync(walPath).then(
      () => {
        if (stopped) return;
        syncing = undefined;
        for (const id of ids) reply({ type: 'done', id });
        if (queue.length > 0) drain();
        syncInBackground();
      },
      (err: unknown) => {
        if (stopped) return;
        // The kernel may have dropped the pages it failed to write, so a later fsync that succeeds
        // proves nothing about these commits: refuse them and stop, as a database does.
        const error = fsyncFailure(err, 'the writer has stopped; model calls are refused until the gateway restarts');
        const waiting = queue.filter((m) => m.id !== INTERNAL).map((m) => m.id);
        for (const id of [...ids, ...unsynced, ...waiting]) reply({ type: 'done', id, error });
        reply({ type: 'warning', error });
        stop();
        port.close();
      },
    );
  }

  function relaxedFlush(): void {
    if (flushTimer !== undefined) clearTimeout(flushTimer);
    flushTimer = undefined;
    const warn = (err: unknown) =>
      reply({ type: 'warning', error: fsyncFailure(err, 'retrying with the next commit') });
    if (onLoop) syncFileAsync(walPath).catch(warn);
    else
      try {
        syncFile(walPath);
      } catch (err) {
        warn(err);
      }
  }

  /** At close the loop is winding down: one synchronous fsync covers every commit, then they are answered. */
  function flushBeforeClose(): void {
    if (flushTimer !== undefined) clearTimeout(flushTimer);
    flushTimer = undefined;
    let error: string | undefined;
    try {
      syncFile(walPath);
    } catch (err) {
      error = fsyncFailure(err, ackAfterFsync ? 'these records are refused' : 'at close');
      reply({ type: 'warning', error });
    }
    if (!ackAfterFsync) return;
    for (const id of [...(syncing ?? []), ...unsynced]) reply({ type: 'done', id, ...(error ? { error } : {}) });
    syncing = undefined;
    unsynced = [];
  }

  function fsyncFailure(err: unknown, then: string): string {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return `audit log fsync failed (${code}): records committed since the last flush may not be on disk; ${then}`;
  }

  function stop(): void {
    stopped = true;
    walInBackground.close();
    queue.length = 0;
    clearInterval(timer);
    if (retentionTimer !== undefined) clearInterval(retentionTimer);
    try {
      db?.close();
    } catch {
      /* closing is best effort once the checkpoint is written */
    }
    db = undefined;
    writer = undefined;
  }

  function attempt(fn: () => unknown): string | typeof BUSY | undefined {
    if (writer === undefined) return 'the audit log is not open';
    try {
      fn();
      busySince = undefined;
      busyRetries = 0;
      return undefined;
    } catch (err) {
      if (onLoop && isBusy(err)) {
        busySince ??= Date.now();
        if (Date.now() - busySince < AUDIT_BUSY_TIMEOUT_MS) return BUSY;
      }
      busySince = undefined;
      busyRetries = 0;
      return (err as Error).message;
    }
  }

  function reply(msg: WriterReply): void {
    port.postMessage(msg);
  }
}
