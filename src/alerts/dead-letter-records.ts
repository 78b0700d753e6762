/**
 * Dead letters on a shared store. The JSONL file stays (it holds the whole payload, and it is
 * written even when the database is the thing that is down), but with `store.driver: postgres`
 * each dead letter is also an `alert.dead_letter` audit record, so an operator sees every
 * instance's failed deliveries in one place (`portcullis alerts dead-letters`, the audit
 * export) instead of on the disk of whichever instance gave up. The record holds what
 * identifies the delivery, never the payload (the event itself is already in the log).
 */
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditEntry, AuditRecord } from '../audit/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { DeadLetter, DeadLetterSink } from './dead-letters.ts';

export const DEAD_LETTER_ACTION = 'alert.dead_letter';

export function deadLetterEntry(letter: DeadLetter): AuditEntry {
  return {
    time: letter.time,
    actor: { kind: 'system', id: 'alerts', tenant: letter.payload.tenant_id ?? null },
    action: DEAD_LETTER_ACTION,
    target: letter.webhook_id.slice(0, 256),
    decision: 'refused',
    reason: null,
    requestId: null,
    metadata: {
      event_id: letter.event_id.slice(0, 128),
      event_type: letter.event_type.slice(0, 128),
      attempts: letter.attempts,
      last_error: letter.last_error.slice(0, 500),
    },
  };
}

/** The letter goes to the file and to the audit log; either failing is logged, and the file is awaited. */
export function withDeadLetterRecords(
  file: DeadLetterSink,
  audit: Pick<AuditLog, 'append'>,
  log: Logger,
): DeadLetterSink {
  return {
    async append(letter) {
      const recorded = audit.append(deadLetterEntry(letter)).catch((err: unknown) => {
        log.error(
          { event: 'alerts.dead_letter_record_failed', webhook: letter.webhook_id, error: (err as Error).message },
          'could not record a dead letter in the shared audit log; it is in the local file only',
        );
      });
      await file.append(letter);
      await recorded;
    },
  };
}

/** A dead-letter record, shown the way the file's letters are (without the payload). */
export function letterOfRecord(r: AuditRecord): Omit<DeadLetter, 'payload'> & { instance_chain: string | null } {
  const m = JSON.parse(r.metadata) as Record<string, string | number | null>;
  return {
    time: r.time,
    webhook_id: r.target ?? '',
    event_id: String(m.event_id ?? ''),
    event_type: String(m.event_type ?? ''),
    attempts: Number(m.attempts ?? 0),
    last_error: String(m.last_error ?? ''),
    instance_chain: r.chain ?? null,
  };
}
