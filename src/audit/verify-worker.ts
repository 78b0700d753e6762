/**
 * Runs `verifyAuditDatabase` off the main thread: checking the whole chain reads every record,
 * which would otherwise stall the event loop (and every request) for as long as it takes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openAuditDatabaseForReading } from './database.ts';
import { verifyAuditDatabase } from './verify.ts';

const { path, trustedPublicKeys } = workerData as { path: string; trustedPublicKeys: string[] };
try {
  const db = openAuditDatabaseForReading(path);
  try {
    // The running gateway's own newest records wait for the next timed checkpoint (a few
    // seconds): counted in unsignedRecords, not reported as tampering.
    parentPort!.postMessage({ result: verifyAuditDatabase(db, { trustedPublicKeys, allowUnsignedTail: true }) });
  } finally {
    db.close();
  }
} catch (err) {
  parentPort!.postMessage({ error: (err as Error).message });
}
