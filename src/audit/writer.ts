/**
 * The audit writer: it owns the audit database, takes append, checkpoint and close requests
 * from a message port and answers on it. Messages that arrive while a commit is under way are
 * queued and committed together in the next transaction (group commit), so many concurrent
 * requests share one fsync. It runs on its own worker thread by default (writer-worker.ts),
 * or on the main thread with `audit.writer: inline` (audit-log.ts says what that trades).
 */

import { closeSync, fsyncSync, openSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import { type ChainWriter, createChainWriter } from './chain-writer.ts';
import { openAuditDatabaseForWriting } from './database.ts';
import { pruneEntry } from './prepare-entry.ts';
import { pruneAuditLog } from './retention.ts';
import { type CheckpointSigner, createSigner, parsePrivateKeyPem } from './signing-key.ts';
import type { PreparedEntry } from './types.ts';

export interface WriterInit {
  readonly path: string;
  readonly signingKeyPem: string;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  /** Prune records older than this many days (whole signed ranges; retention.ts); undefined keeps all. */
  readonly retentionDays?: number | undefined;
  /** Set with `audit.durability: relaxed`: commits use `synchronous = NORMAL`, and the WAL is
   *  fsynced this many ms after the first commit not yet flushed. Unset: `synchronous = FULL`. */
  readonly relaxedFlushMs?: number | undefined;
}

/** For tests: how the writer puts a file on disk (default: open, fsync, close). */
export interface WriterHooks {
  readonly fsyncFile?: (path: string) => void;
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

/** Opens the database, reports `ready` (or `failed`) on the port, then serves it until `close`. */
export function runWriter(port: WriterPort, init: WriterInit, hooks: WriterHooks = {}): void {
  const TIMER_CHECKPOINT = -1;
  const relaxed = init.relaxedFlushMs !== undefined;
  const syncFile = hooks.fsyncFile ?? fsyncFile;
  /** Set while commits wait for the fsync that puts them on disk (relaxed durability only). */
  let flushTimer: ReturnType<typeof setTimeout> | undefined;

  let db: DatabaseSync | undefined;
  let writer: ChainWriter | undefined;
  let signer: CheckpointSigner | undefined;
  try {
    signer = createSigner(parsePrivateKeyPem(init.signingKeyPem, 'audit.signing_key'));
    db = openAuditDatabaseForWriting(init.path, relaxed ? 'relaxed' : 'fsync');
    writer = createChainWriter(db, signer, init.checkpointEvery);
    // Records left unsigned by a process that did not shut down cleanly (kill -9, power loss):
    // sign them now rather than at the next interval, so verify passes without waiting for traffic.
    // A signature covers the stored hashes, so a tail that does not chain on is still named by verify.
    const signed = writer.checkpoint();
    if (signed > 0) {
      port.postMessage({ type: 'tail_signed', records: signed } satisfies WriterReply);
      committed();
    }
    port.postMessage({ type: 'ready', fingerprint: signer.fingerprint } satisfies WriterReply);
  } catch (err) {
    port.postMessage({ type: 'failed', error: (err as Error).message } satisfies WriterReply);
  }

  const queue: WriterRequest[] = [];
  let scheduled = false;
  const timer = setInterval(() => enqueue({ op: 'checkpoint', id: TIMER_CHECKPOINT }), init.checkpointIntervalMs);
  timer.unref();
  const RETENTION_EVERY_MS = 3_600_000;
  const retentionTimer = init.retentionDays === undefined ? undefined : setInterval(applyRetention, RETENTION_EVERY_MS);
  retentionTimer?.unref();
  if (init.retentionDays !== undefined && writer !== undefined) setImmediate(applyRetention);

  /** Prunes what retention allows, and records that it did, in the chain itself. */
  function applyRetention(): void {
    if (db === undefined || writer === undefined || signer === undefined || init.retentionDays === undefined) return;
    const cutoff = new Date(Date.now() - init.retentionDays * 86_400_000);
    const error = attempt(() => {
      const result = pruneAuditLog(db!, signer!, cutoff);
      if (result.records === 0) return;
      writer!.append([
        pruneEntry({
          records: result.records,
          through_seq: result.throughSeq,
          cutoff: cutoff.toISOString(),
          retention_days: init.retentionDays!,
        }),
      ]);
      reply({ type: 'pruned', records: result.records, throughSeq: result.throughSeq });
      committed();
    });
    if (error) reply({ type: 'warning', error: `audit retention prune failed: ${error}` });
  }

  port.on('message', (msg: WriterRequest) => enqueue(msg));

  function enqueue(msg: WriterRequest): void {
    queue.push(msg);
    if (!scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  }

  function drain(): void {
    scheduled = false;
    const batch = queue.splice(0);
    let i = 0;
    while (i < batch.length) {
      const msg = batch[i]!;
      if (msg.op === 'append') {
        // Every append waiting now goes into one transaction, one fsync.
        const appends: Array<Extract<WriterRequest, { op: 'append' }>> = [];
        while (i < batch.length && batch[i]!.op === 'append')
          appends.push(batch[i++] as Extract<WriterRequest, { op: 'append' }>);
        const error = attempt(() => writer!.append(appends.flatMap((a) => a.entries)));
        for (const a of appends) reply({ type: 'done', id: a.id, ...(error ? { error } : {}) });
        if (!error) committed();
        continue;
      }
      i++;
      if (msg.op === 'checkpoint') {
        const error = attempt(() => writer!.checkpoint());
        if (!error) committed();
        if (msg.id === TIMER_CHECKPOINT) {
          if (error) reply({ type: 'warning', error: `periodic audit checkpoint failed: ${error}` });
        } else reply({ type: 'done', id: msg.id, ...(error ? { error } : {}) });
      } else {
        // close: sign the final head so a clean shutdown leaves nothing unsigned.
        const error = attempt(() => writer!.checkpoint());
        // Relaxed: what is committed goes to disk before the writer says it has closed.
        if (relaxed) flush();
        clearInterval(timer);
        if (retentionTimer !== undefined) clearInterval(retentionTimer);
        try {
          db?.close();
        } catch {
          /* closing is best effort once the checkpoint is written */
        }
        db = undefined;
        writer = undefined;
        reply({ type: 'done', id: msg.id, ...(error ? { error } : {}) });
        port.close();
        return;
      }
    }
  }

  /** Relaxed durability: a commit is on disk at most `relaxedFlushMs` after it was made. */
  function committed(): void {
    if (!relaxed || flushTimer !== undefined) return;
    flushTimer = setTimeout(flush, init.relaxedFlushMs);
    // A process that exits without closing leaves the commits with the OS, which still writes them.
    flushTimer.unref();
  }

  function flush(): void {
    if (flushTimer !== undefined) clearTimeout(flushTimer);
    flushTimer = undefined;
    try {
      // The WAL holds every commit since the last checkpoint, and SQLite syncs the database
      // file itself when it checkpoints, so the WAL is what a commit needs on disk.
      syncFile(`${init.path}-wal`);
    } catch (err) {
      reply({
        type: 'warning',
        error: `audit log fsync failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): records committed since the last flush may not be on disk; retrying with the next commit`,
      });
    }
  }

  function attempt(fn: () => unknown): string | undefined {
    if (writer === undefined) return 'the audit log is not open';
    try {
      fn();
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  function reply(msg: WriterReply): void {
    port.postMessage(msg);
  }
}
