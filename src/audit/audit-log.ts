/**
 * The audit log as the rest of the gateway sees it. `append` resolves only once the record is
 * committed and on disk by default (the WAL fsynced: see the writers below); with `durability: relaxed`
 * (`audit.durability`, an explicit choice) with `synchronous = NORMAL`, so in the operating
 * system's hands, the writer fsyncing the log within `flushIntervalMs`. If it cannot be written,
 * `append` rejects, and callers on the request path refuse the request. Appends from the same turn of the event loop go to the
 * writer in one message, and the writer commits whatever has queued in one transaction.
 *
 * Where the writer runs (`audit.writer`):
 * - `thread`: a worker thread, committing with `synchronous = FULL`, so SQLite's work and each
 *   commit's fsync never hold the event loop. The thread is a second V8 isolate with its own
 *   Node runtime: 15–35 MiB of resident memory.
 * - `inline` (the default): the same writer on the main thread, called directly. It
 *   never waits for the disk there: commits go to the WAL and the WAL is fsynced on libuv's
 *   thread pool, and `append` resolves only after that fsync returns (writer.ts), so a record
 *   is on disk before its request goes upstream, as with the thread. What the event loop does
 *   carry is SQLite's CPU work and its periodic WAL checkpoints.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../observability/logger.ts';
import { AUDIT_DEFAULTS } from './config.ts';
import type { AuditDurability } from './config-types.ts';
import { prepareEntry } from './prepare-entry.ts';
import { createSigner, parsePrivateKeyPem, publicKeyFromPem } from './signing-key.ts';
import type { AuditEntry, PreparedEntry } from './types.ts';
import type { WriterInit, WriterPort, WriterReply, WriterRequest } from './writer.ts';

export interface AuditLogOptions {
  readonly path: string;
  /** PKCS#8 PEM of the Ed25519 checkpoint key. */
  readonly signingKeyPem: string;
  /** Sign a checkpoint after this many records … */
  readonly checkpointEvery: number;
  /** … or after this long, if records were added. */
  readonly checkpointIntervalMs: number;
  /** Prune records older than this many days (hourly, and at open); undefined keeps everything. */
  readonly retentionDays?: number | undefined;
  /** Where the writer runs: the main thread (default) or its own thread (see the top of this file). */
  readonly writer?: AuditWriterMode | undefined;
  /** `fsync` (default): acknowledged once on disk; `relaxed`: once committed (`synchronous = NORMAL`), the
   *  writer fsyncing the log within `flushIntervalMs` of a commit (audit.durability). */
  readonly durability?: AuditDurability | undefined;
  /** With `relaxed`: the longest time from a commit to the fsync that puts it on disk (default 1000 ms). */
  readonly flushIntervalMs?: number | undefined;
  readonly log?: Logger;
}

export const AUDIT_WRITER_MODES = ['inline', 'thread'] as const;
export type AuditWriterMode = (typeof AUDIT_WRITER_MODES)[number];

/** What openAuditLog needs of the writer: a Worker, or the main-thread stand-in below. */
interface WriterHandle {
  on(event: 'message', listener: (msg: WriterReply) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  once(event: 'exit', listener: () => void): unknown;
  postMessage(msg: WriterRequest): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<unknown>;
}

/**
 * The writer on the main thread, called directly: requests go to its queue and its replies to
 * the log's listener as plain calls, without the structured clone and the two hops a
 * MessageChannel would add to every batch. Replies made before the log listens (`ready`, or
 * `failed`, at open) are held and delivered once it does. Nothing here needs to hold the
 * process open: while a request waits, the writer has an immediate, a timer or an fsync
 * pending. Closing either side is the exit, announced on the next turn of the loop (as a
 * port's `close` event follows the messages before it).
 */
async function inlineWriter(init: WriterInit): Promise<WriterHandle> {
  const { runWriter } = await import('./writer.ts');
  let toLog: ((msg: WriterReply) => void) | undefined;
  let toWriter: ((msg: WriterRequest) => void) | undefined;
  const early: WriterReply[] = [];
  const exits: Array<(code: number) => void> = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    setImmediate(() => {
      for (const f of exits.splice(0)) f(0);
    });
  };
  const writerSide: WriterPort = {
    on(_event, listener) {
      toWriter = listener;
    },
    postMessage(msg) {
      if (closed) return;
      if (toLog === undefined) early.push(msg);
      else toLog(msg);
    },
    close,
  };
  const handle: WriterHandle = {
    on(event: string, listener: (arg: never) => void) {
      if (event === 'exit') exits.push(listener as (code: number) => void);
      else if (event === 'message') {
        const deliver = listener as (msg: WriterReply) => void;
        toLog = deliver;
        for (const msg of early.splice(0)) queueMicrotask(() => deliver(msg));
      }
      // 'error': the writer catches its own failures and reports them as replies.
      return handle;
    },
    once(_event: 'exit', listener: () => void) {
      exits.push(listener);
      return handle;
    },
    postMessage(msg) {
      if (!closed) toWriter?.(msg);
    },
    ref() {},
    unref() {},
    terminate: async () => close(),
  };
  runWriter(writerSide, init);
  return handle;
}

export interface AuditLog {
  readonly path: string;
  /** PostgreSQL: the chain this process appends to (one per instance); undefined for the SQLite file. */
  readonly chainId?: string;
  /** Fingerprint of the checkpoint key's public half. */
  readonly fingerprint: string;
  /** The checkpoint key's public half (base64 SPKI DER), which `verify` trusts. */
  readonly publicKey?: string;
  /** Resolves once the record is durably committed; rejects with AuditUnavailableError otherwise. */
  append(entry: AuditEntry): Promise<void>;
  /** Signs the current head now (if anything was added since the last checkpoint). */
  checkpoint(): Promise<void>;
  /** False once the writer has stopped; every append is then refused. */
  healthy(): boolean;
  /** Commits what is queued, signs a final checkpoint and stops the writer. */
  close(): Promise<void>;
}

export class AuditUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditUnavailableError';
  }
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

export async function openAuditLog(opts: AuditLogOptions): Promise<AuditLog> {
  if (!Number.isSafeInteger(opts.checkpointEvery) || opts.checkpointEvery < 1)
    throw new RangeError('checkpointEvery must be an integer ≥ 1');
  if (!Number.isSafeInteger(opts.checkpointIntervalMs) || opts.checkpointIntervalMs < 1)
    throw new RangeError('checkpointIntervalMs must be an integer ≥ 1');
  if (opts.flushIntervalMs !== undefined && (!Number.isSafeInteger(opts.flushIntervalMs) || opts.flushIntervalMs < 1))
    throw new RangeError('flushIntervalMs must be an integer ≥ 1');
  const fingerprint = createSigner(parsePrivateKeyPem(opts.signingKeyPem, 'audit.signing_key')).fingerprint;
  const init: WriterInit = {
    path: opts.path,
    signingKeyPem: opts.signingKeyPem,
    checkpointEvery: opts.checkpointEvery,
    checkpointIntervalMs: opts.checkpointIntervalMs,
    retentionDays: opts.retentionDays,
    ...(opts.durability === 'relaxed'
      ? { relaxedFlushMs: opts.flushIntervalMs ?? AUDIT_DEFAULTS.flushIntervalMs }
      : {}),
    onEventLoop: opts.writer !== 'thread',
  };
  const worker: WriterHandle =
    opts.writer !== 'thread'
      ? await inlineWriter(init)
      : new Worker(new URL('./writer-worker.ts', import.meta.url), { workerData: init });

  let nextId = 1;
  let dead: string | undefined;
  let closing: Promise<void> | undefined;
  const inFlight = new Map<number, Waiter[]>();
  let queued: Array<{ entry: PreparedEntry; waiter: Waiter }> = [];
  let flushScheduled = false;
  let onReady: ((err?: Error) => void) | undefined;

  // The writer keeps the process alive only while something waits for it.
  const updateRef = () =>
    inFlight.size > 0 || queued.length > 0 || onReady || (closing && dead === undefined)
      ? worker.ref()
      : worker.unref();

  const failAll = (reason: string) => {
    dead ??= reason;
    const err = new AuditUnavailableError(`audit log unavailable: ${reason}`);
    for (const waiters of inFlight.values()) for (const w of waiters) w.reject(err);
    inFlight.clear();
    for (const q of queued) q.waiter.reject(err);
    queued = [];
    onReady?.(err);
    updateRef();
  };

  worker.on('message', (msg: WriterReply) => {
    if (msg.type === 'ready') onReady?.();
    else if (msg.type === 'failed') onReady?.(new AuditUnavailableError(msg.error));
    else if (msg.type === 'warning') opts.log?.error({ auditLog: opts.path }, msg.error);
    else if (msg.type === 'tail_signed')
      opts.log?.info(
        { event: 'audit.tail_signed', auditLog: opts.path, records: msg.records },
        `signed ${msg.records} audit record(s) that an earlier run left after its last checkpoint`,
      );
    else if (msg.type === 'pruned')
      opts.log?.info(
        { event: 'audit.pruned', auditLog: opts.path, records: msg.records, throughSeq: msg.throughSeq },
        'audit retention pruned old records',
      );
    else {
      const waiters = inFlight.get(msg.id) ?? [];
      inFlight.delete(msg.id);
      const err = msg.error === undefined ? undefined : new AuditUnavailableError(`audit write failed: ${msg.error}`);
      for (const w of waiters) err ? w.reject(err) : w.resolve();
      updateRef();
    }
  });
  worker.on('error', (err) => {
    opts.log?.error({ err, auditLog: opts.path }, 'audit writer failed');
    failAll(`writer failed: ${err.message}`);
  });
  worker.on('exit', (code) => {
    if (!closing && dead === undefined)
      opts.log?.error({ code, auditLog: opts.path }, 'audit writer exited; model calls are refused until restart');
    failAll(closing ? 'closed' : 'writer exited');
  });

  const send = (msg: WriterRequest, waiters: Waiter[]) => {
    inFlight.set(msg.id, waiters);
    worker.postMessage(msg);
    updateRef();
  };

  const flush = () => {
    flushScheduled = false;
    if (queued.length === 0) return;
    const batch = queued;
    queued = [];
    send(
      { op: 'append', id: nextId++, entries: batch.map((q) => q.entry) },
      batch.map((q) => q.waiter),
    );
  };

  const request = (op: 'checkpoint' | 'close') =>
    new Promise<void>((resolve, reject) => {
      if (dead !== undefined) return reject(new AuditUnavailableError(`audit log unavailable: ${dead}`));
      flush();
      send({ op, id: nextId++ }, [{ resolve, reject }]);
    });

  await new Promise<void>((resolve, reject) => {
    onReady = (err) => {
      onReady = undefined;
      updateRef();
      if (err) reject(err);
      else resolve();
    };
    updateRef();
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });

  return {
    path: opts.path,
    fingerprint,
    publicKey: publicKeyFromPem(opts.signingKeyPem, 'audit.signing_key'),
    append(entry) {
      if (dead !== undefined || closing)
        return Promise.reject(new AuditUnavailableError(`audit log unavailable: ${dead ?? 'closing'}`));
      let prepared: PreparedEntry;
      try {
        prepared = prepareEntry(entry);
      } catch (err) {
        return Promise.reject(err);
      }
      return new Promise<void>((resolve, reject) => {
        queued.push({ entry: prepared, waiter: { resolve, reject } });
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
        updateRef();
      });
    },
    checkpoint: () => request('checkpoint'),
    healthy: () => dead === undefined && !closing,
    close() {
      closing ??= (async () => {
        if (dead !== undefined) return;
        try {
          await request('close');
        } finally {
          await new Promise<void>((resolve) => {
            if (dead !== undefined) resolve();
            else worker.once('exit', () => resolve());
          });
        }
      })();
      return closing;
    },
  };
}
