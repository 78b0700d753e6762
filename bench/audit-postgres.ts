/**
 * What an audit record costs on each backend: `node bench/audit-postgres.ts [RECORDS] [CONCURRENCY]`.
 * Appends RECORDS records (default 5,000) from CONCURRENCY concurrent callers (default 64, as a
 * loaded gateway would) to the SQLite file and to PostgreSQL (a database created for the run and
 * dropped after, at PORTCULLIS_TEST_PG_URL), and prints records/s, append latency p50/p99 and,
 * for PostgreSQL, statements sent per record (group commit: concurrent appends share one).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { AuditLog } from '../src/audit/audit-log.ts';
import { openPgAuditLog } from '../src/audit/postgres/pg-audit-log.ts';
import { entry, newKeyPem, openTestLog, tempDir } from '../src/audit/test-support.ts';
import { createTestDatabase } from '../src/store/postgres/test-database.ts';

const RECORDS = Number(process.argv[2] ?? 5_000);
const CONCURRENCY = Number(process.argv[3] ?? 64);

let statements = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function counted(this: pg.Client, ...args: unknown[]) {
  statements++;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;

async function run(name: string, log: AuditLog): Promise<void> {
  const latencies: number[] = [];
  let next = 0;
  const before = statements;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < RECORDS) {
        const i = next++;
        const s = performance.now();
        await log.append(entry(i));
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const sent = statements - before;
  await log.close();
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(2);
  const perRecord = name === 'postgres' ? `, ${sent} statements (${(sent / RECORDS).toFixed(3)} per record)` : '';
  console.log(
    `${name.padEnd(8)} ${RECORDS} records, ${CONCURRENCY} concurrent: ${(RECORDS / seconds).toFixed(0)} records/s, append p50 ${p(0.5)} ms, p99 ${p(0.99)} ms${perRecord}`,
  );
}

const pem = newKeyPem();
const dir = tempDir();
const db = await createTestDatabase('portcullis_audit_bench');
try {
  await run('sqlite', await openTestLog(join(dir, 'audit.db'), pem));
  await run(
    'postgres',
    await openPgAuditLog({
      url: db.url,
      schema: 'public',
      signingKeyPem: pem,
      checkpointEvery: 1000,
      checkpointIntervalMs: 5_000,
    }),
  );
} finally {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
}
