/**
 * The payload log: request and response bodies of model calls, redacted and then encrypted
 * under the tenant's data key, bound to table `payload_log`, the request id and the tenant
 * (a ciphertext copied onto another row or tenant does not decrypt). Rows past
 * `retention_days` are purged on startup and every hour.
 */
import type { Envelope } from '../crypto/envelope.ts';
import type { Binding } from '../crypto/envelope-format.ts';
import type { Logger } from '../observability/logger.ts';
import type { PayloadLogRepository } from '../store/encryption-records.ts';
import type { PayloadLogConfig } from './config-types.ts';
import { createRedactor, type Redactor } from './redact.ts';

export const PAYLOAD_TABLE = 'payload_log';
const PAYLOAD_COLUMN = 'body';
const PURGE_BATCH = 1000;
const PURGE_EVERY_MS = 60 * 60_000;
const DAY_MS = 86_400_000;

/** What is stored (as JSON, after redaction) for one model call. */
export interface PayloadEntry {
  readonly requestId: string;
  readonly tenantId: string;
  readonly createdAt: string;
  readonly surface: string;
  readonly operation: string;
  readonly model: string | null;
  readonly status: number;
  readonly errorCode: string | null;
  readonly request: unknown;
  /** The response body, `{ stream_text }` for a stream (the assembled text), or null after an error. */
  readonly response: unknown;
}

export interface PayloadLog {
  readonly redact: Redactor;
  record(entry: PayloadEntry): Promise<void>;
  /** The decrypted, redacted document of one request; undefined when none is logged. */
  show(requestId: string): Promise<{ tenantId: string; createdAt: string; text: string } | undefined>;
  /** Deletes rows older than the retention; returns how many went. */
  purge(now?: Date): Promise<number>;
  /** Purges now and then every hour (timer unref'd) until `stop`. */
  startPurging(): void;
  stop(): void;
}

export function payloadBinding(requestId: string, tenantId: string): Binding {
  return { table: PAYLOAD_TABLE, row: requestId, tenant: tenantId, column: PAYLOAD_COLUMN };
}

export function createPayloadLog(opts: {
  config: PayloadLogConfig;
  envelope: Envelope;
  repository: PayloadLogRepository;
  log: Logger;
}): PayloadLog {
  const { config, envelope, repository, log } = opts;
  const redact = createRedactor(config.redact);
  let timer: NodeJS.Timeout | undefined;

  async function purge(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - config.retentionDays * DAY_MS).toISOString();
    let total = 0;
    for (;;) {
      const n = await repository.deleteOlderThan(cutoff, PURGE_BATCH);
      total += n;
      if (n < PURGE_BATCH) return total;
    }
  }

  const runPurge = (): void => {
    purge().then(
      (n) => {
        if (n > 0)
          log.info(
            { event: 'payload_log.purged', rows: n, retentionDays: config.retentionDays },
            'purged payloads past retention',
          );
      },
      (err: unknown) =>
        log.error({ event: 'payload_log.purge_failed', error: (err as Error).message }, 'payload log purge failed'),
    );
  };

  return {
    redact,
    async record(entry) {
      const text = redact(JSON.stringify(entry));
      const ciphertext = await envelope.encrypt(payloadBinding(entry.requestId, entry.tenantId), text);
      await repository.insert({
        requestId: entry.requestId,
        tenantId: entry.tenantId,
        createdAt: entry.createdAt,
        ciphertext,
      });
    },
    async show(requestId) {
      const row = await repository.get(requestId);
      if (row === undefined) return undefined;
      const plain = await envelope.decrypt(payloadBinding(row.requestId, row.tenantId), row.ciphertext);
      try {
        return { tenantId: row.tenantId, createdAt: row.createdAt, text: plain.toString('utf8') };
      } finally {
        plain.fill(0);
      }
    },
    purge,
    startPurging() {
      if (timer !== undefined) return;
      runPurge();
      timer = setInterval(runPurge, PURGE_EVERY_MS);
      timer.unref();
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
