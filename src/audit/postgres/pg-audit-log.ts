/**
 * The audit log on PostgreSQL, as the rest of the gateway sees it (the same `AuditLog` as the
 * SQLite file's). `append` resolves once the record is committed; if it cannot be, it rejects
 * and the request is refused (`503 audit.unavailable`). Appends wait in one queue: while a
 * statement is in flight, the next ones gather and go together in the next statement (group
 * commit), so concurrent requests share one round trip. A timer signs the head every
 * `checkpoint_interval_ms`; close signs the final head and frees the chain.
 */

import type { Logger } from '../../observability/logger.ts';
import { describeTarget } from '../../store/postgres/connection.ts';
import { type AuditLog, AuditUnavailableError } from '../audit-log.ts';
import type { AuditDurability } from '../config-types.ts';
import { prepareEntry, pruneEntry } from '../prepare-entry.ts';
import { createSigner, parsePrivateKeyPem } from '../signing-key.ts';
import type { AuditEntry, PreparedEntry } from '../types.ts';
import { openPgChainWriter, type PgChainWriter } from './chain-writer.ts';
import { prunePgAuditLog } from './retention.ts';

export interface PgAuditLogOptions {
  readonly url: string;
  readonly schema: string;
  readonly signingKeyPem: string;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  readonly retentionDays?: number | undefined;
  /** `relaxed`: commits return before the server's WAL flush (audit.durability). Default `fsync`. */
  readonly durability?: AuditDurability | undefined;
  readonly log?: Logger;
}

/** Records per statement: a burst larger than this is committed in several. */
const MAX_BATCH = 2_000;
const RETENTION_EVERY_MS = 3_600_000;

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

export async function openPgAuditLog(opts: PgAuditLogOptions): Promise<AuditLog> {
  if (!Number.isSafeInteger(opts.checkpointEvery) || opts.checkpointEvery < 1)
    throw new RangeError('checkpointEvery must be an integer ≥ 1');
  if (!Number.isSafeInteger(opts.checkpointIntervalMs) || opts.checkpointIntervalMs < 1)
    throw new RangeError('checkpointIntervalMs must be an integer ≥ 1');
  const signer = createSigner(parsePrivateKeyPem(opts.signingKeyPem, 'audit.signing_key'));
  const where = describeTarget(opts.url);
  const open = async (preferChain?: string): Promise<PgChainWriter> => {
    const w = await openPgChainWriter({
      url: opts.url,
      schema: opts.schema,
      where,
      signer,
      checkpointEvery: opts.checkpointEvery,
      ...(opts.durability === undefined ? {} : { durability: opts.durability }),
      ...(preferChain ? { preferChain } : {}),
    });
    opts.log?.info(
      { event: 'audit.chain_leased', chain: w.chainId, auditLog: where },
      `audit log: appending to chain ${w.chainId}`,
    );
    if (w.signedAtOpen > 0) {
      opts.log?.info(
        { event: 'audit.tail_signed', chain: w.chainId, records: w.signedAtOpen },
        `signed ${w.signedAtOpen} audit record(s) that an earlier run left after its last checkpoint`,
      );
    }
    return w;
  };
  let writer: PgChainWriter | undefined;
  try {
    writer = await open();
  } catch (err) {
    throw new AuditUnavailableError((err as Error).message);
  }
  let chainId = writer.chainId;
  let failing: string | undefined;
  let closing = false;
  const queue: Array<{ entry: PreparedEntry; waiter: Waiter }> = [];
  let checkpointWanted = false;
  let pruneWanted = opts.retentionDays !== undefined;
  let running: Promise<void> | undefined;
  let scheduled = false;

  /** The writer, reopened (same chain if free) after a failure. */
  const current = async (): Promise<PgChainWriter> => {
    if (writer?.usable()) return writer;
    if (writer !== undefined) await writer.close();
    writer = undefined;
    writer = await open(chainId);
    chainId = writer.chainId;
    return writer;
  };
  const fail = (err: unknown) => {
    failing = (err as Error).message;
    opts.log?.error(
      { event: 'audit.write_failed', auditLog: where, chain: chainId, error: failing },
      'audit log write failed',
    );
  };

  const step = async (): Promise<boolean> => {
    if (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        const w = await current();
        await w.append(batch.map((q) => q.entry));
        failing = undefined;
        for (const q of batch) q.waiter.resolve();
      } catch (err) {
        fail(err);
        const e = new AuditUnavailableError(`audit write failed: ${(err as Error).message}`);
        for (const q of batch) q.waiter.reject(e);
      }
      return true;
    }
    if (checkpointWanted) {
      checkpointWanted = false;
      try {
        await (await current()).checkpoint();
        failing = undefined;
      } catch (err) {
        fail(err);
      }
      return true;
    }
    if (pruneWanted && opts.retentionDays !== undefined) {
      pruneWanted = false;
      try {
        const w = await current();
        const cutoff = new Date(Date.now() - opts.retentionDays * 86_400_000);
        const result = await prunePgAuditLog(w.client, w.tables, signer, cutoff);
        if (result.records > 0) {
          queue.push({
            entry: pruneEntry({
              records: result.records,
              chains: result.chains,
              cutoff: cutoff.toISOString(),
              retention_days: opts.retentionDays,
            }),
            waiter: { resolve() {}, reject() {} },
          });
          opts.log?.info(
            { event: 'audit.pruned', auditLog: where, records: result.records, chains: result.chains },
            'audit retention pruned old records',
          );
        }
      } catch (err) {
        opts.log?.error(
          { event: 'audit.prune_failed', auditLog: where, error: (err as Error).message },
          'audit retention prune failed',
        );
      }
      return true;
    }
    return false;
  };

  const pump = () => {
    scheduled = false;
    if (running !== undefined) return;
    running = (async () => {
      while (await step()) {
        /* drain: what arrived meanwhile goes in the next statement */
      }
    })().finally(() => {
      running = undefined;
      if (queue.length > 0 || checkpointWanted) schedule();
    });
  };
  const schedule = () => {
    if (scheduled || running !== undefined) return;
    scheduled = true;
    // Appends made in the same turn of the event loop share the first statement too.
    setImmediate(pump);
  };

  const timer = setInterval(() => {
    checkpointWanted = true;
    schedule();
  }, opts.checkpointIntervalMs);
  timer.unref();
  const retentionTimer =
    opts.retentionDays === undefined
      ? undefined
      : setInterval(() => {
          pruneWanted = true;
          schedule();
        }, RETENTION_EVERY_MS);
  retentionTimer?.unref();
  if (pruneWanted) schedule();

  let closed: Promise<void> | undefined;
  return {
    get path() {
      return `${where} (schema ${opts.schema}, audit chain ${chainId})`;
    },
    get chainId() {
      return chainId;
    },
    fingerprint: signer.fingerprint,
    publicKey: signer.publicKey,
    append(entry: AuditEntry) {
      if (closing) return Promise.reject(new AuditUnavailableError('audit log unavailable: closing'));
      let prepared: PreparedEntry;
      try {
        prepared = prepareEntry(entry);
      } catch (err) {
        return Promise.reject(err);
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ entry: prepared, waiter: { resolve, reject } });
        schedule();
      });
    },
    async checkpoint() {
      checkpointWanted = true;
      schedule();
      while (running !== undefined || scheduled) await (running ?? new Promise((r) => setImmediate(r)));
      if (failing !== undefined) throw new AuditUnavailableError(`audit log unavailable: ${failing}`);
    },
    healthy: () => !closing && failing === undefined,
    close() {
      closed ??= (async () => {
        closing = true;
        clearInterval(timer);
        if (retentionTimer !== undefined) clearInterval(retentionTimer);
        pruneWanted = false;
        while (running !== undefined || scheduled || queue.length > 0) {
          if (running === undefined && !scheduled) schedule();
          await (running ?? new Promise((r) => setImmediate(r)));
        }
        try {
          if (writer?.usable()) await writer.checkpoint();
        } catch (err) {
          fail(err);
        } finally {
          await writer?.close();
          writer = undefined;
        }
      })();
      return closed;
    },
  };
}
