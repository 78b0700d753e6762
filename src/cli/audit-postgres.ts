/**
 * `portcullis audit verify|export|prune` when the audit log lives in PostgreSQL
 * (`store.driver: postgres`): every instance's chain is checked on its own and named, export
 * reads all chains in one order, and prune works across them.
 */
import pg from 'pg';
import type { AuditConfig, AuditPostgresConfig } from '../audit/config-types.ts';
import { CHAIN_CSV_HEADER, csvLine, type ExportFormat, type ExportRange, jsonView } from '../audit/export.ts';
import { cliActor } from '../audit/key-events.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import { auditTables } from '../audit/postgres/framing.ts';
import { type ChainVerifyResult, openPgAuditReader } from '../audit/postgres/reader.ts';
import { type PgPruneResult, prunePgAuditLog } from '../audit/postgres/retention.ts';
import { migrateAuditSchema } from '../audit/postgres/schema.ts';
import { type CheckpointSigner, fingerprintOf } from '../audit/signing-key.ts';
import { describeTarget, quoteIdent, reasonOf } from '../store/postgres/connection.ts';

export async function verifyPostgres(
  cfg: AuditPostgresConfig,
  trusted: readonly string[],
  json: boolean,
  allowUnsignedTail: boolean,
): Promise<number> {
  const reader = openPgAuditReader(cfg);
  const where = `${reader.where} (schema ${cfg.schema})`;
  let chains: ChainVerifyResult[];
  try {
    chains = await reader.verifyChains({ trustedPublicKeys: trusted, allowUnsignedTail });
  } catch (err) {
    const message = `cannot read the audit log at ${where}: ${reasonOf(err)}`;
    if (json) process.stdout.write(`${JSON.stringify({ where, ok: false, error: message })}\n`);
    else process.stderr.write(`portcullis: ${message}\n`);
    return 1;
  } finally {
    await reader.close().catch(() => undefined);
  }
  const ok = chains.every((c) => c.ok);
  if (json) {
    process.stdout.write(`${JSON.stringify({ where, ok, chains, trustedKeys: trusted.map(fingerprintOf) })}\n`);
    return ok ? 0 : 1;
  }
  const verdict = (c: ChainVerifyResult) =>
    c.ok ? 'VALID' : c.finding?.kind === 'unsigned_tail' ? 'UNSIGNED TAIL' : 'TAMPERED';
  const lines = [
    `Audit log ${where}: ${ok ? 'VALID' : 'NOT VALID'}, ${chains.length} chain(s) (one per gateway instance); trusted key(s): ${trusted.map(fingerprintOf).join(', ')}`,
  ];
  for (const c of chains) {
    lines.push(
      `  chain ${c.chain}: ${verdict(c)}; records ${c.records}, head seq ${c.head.seq} (hash ${c.head.hash.slice(0, 16)}…), checkpoints ${c.checkpoints}, last signed seq ${c.lastCheckpointSeq}`,
    );
    if (c.finding)
      lines.push(
        `    ${c.finding.message}`,
        `    first bad record of chain ${c.chain}: seq ${c.finding.seq} (${c.finding.kind})`,
      );
    if (c.prunedThroughSeq > 0)
      lines.push(`    records up to seq ${c.prunedThroughSeq} were pruned by retention (signed anchor verified)`);
    if (c.ok && c.unsignedRecords > 0)
      lines.push(
        `    ${c.unsignedRecords} record(s) after the last checkpoint are chained but not signed (accepted: --allow-unsigned-tail)`,
      );
  }
  (ok ? process.stdout : process.stderr).write(`${lines.join('\n')}\n`);
  return ok ? 0 : 1;
}

export async function exportPostgres(
  cfg: AuditPostgresConfig,
  range: ExportRange,
  format: ExportFormat,
): Promise<number> {
  const reader = openPgAuditReader(cfg);
  try {
    if (format === 'csv') process.stdout.write(`${CHAIN_CSV_HEADER.join(',')}\r\n`);
    await reader.eachInRange(range, (r) =>
      process.stdout.write(format === 'csv' ? csvLine(r) : `${JSON.stringify(jsonView(r))}\n`),
    );
    return 0;
  } catch (err) {
    process.stderr.write(`portcullis: cannot read the audit log at ${reader.where}: ${reasonOf(err)}\n`);
    return 1;
  } finally {
    await reader.close().catch(() => undefined);
  }
}

export async function prunePostgres(
  audit: AuditConfig & { postgres: AuditPostgresConfig },
  dataDir: string,
  signer: CheckpointSigner,
  cutoff: Date,
): Promise<number> {
  const cfg = audit.postgres;
  const where = describeTarget(cfg.url);
  const client = new pg.Client({
    connectionString: cfg.url,
    connectionTimeoutMillis: 5_000,
    application_name: 'portcullis-audit-prune',
  });
  client.on('error', () => undefined);
  let result: PgPruneResult;
  try {
    await client.connect();
    await migrateAuditSchema(client, cfg.schema, where);
    result = await prunePgAuditLog(client, auditTables(quoteIdent(cfg.schema)), signer, cutoff);
  } catch (err) {
    process.stderr.write(`portcullis: cannot prune the audit log at ${where}: ${reasonOf(err)}\n`);
    return 1;
  } finally {
    await client.end().catch(() => undefined);
  }
  if (result.records > 0) {
    const log = await openConfiguredAuditLog(audit, dataDir);
    try {
      await log.append({
        actor: cliActor(),
        action: 'audit.prune',
        target: null,
        decision: 'allowed',
        reason: null,
        requestId: null,
        metadata: { records: result.records, chains: result.chains, cutoff: cutoff.toISOString() },
      });
    } finally {
      await log.close();
    }
  }
  process.stdout.write(
    result.records === 0
      ? `Nothing to prune before ${cutoff.toISOString()} (only whole signed ranges are pruned).\n`
      : `Pruned ${result.records} record(s) from ${result.chains} chain(s) before ${cutoff.toISOString()}; each chain now starts after a signed anchor.\n`,
  );
  return 0;
}
