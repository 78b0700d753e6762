/**
 * `portcullis audit`: check the tamper-evident audit log and export it. Reads the file only;
 * never creates it or a signing key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { createChainWriter } from '../audit/chain-writer.ts';
import { defaultAuditConfig } from '../audit/config.ts';
import type { AuditConfig } from '../audit/config-types.ts';
import { openAuditDatabaseForReading, openAuditDatabaseForWriting } from '../audit/database.ts';
import { EXPORT_FORMATS, type ExportFormat, exportAuditRecords, parseExportRange } from '../audit/export.ts';
import { cliActor } from '../audit/key-events.ts';
import { prepareEntry } from '../audit/prepare-entry.ts';
import { pruneAuditLog } from '../audit/retention.ts';
import {
  type CheckpointSigner,
  createSigner,
  fingerprintOf,
  parsePrivateKeyPem,
  publicKeyFromPem,
  resolveSigningKeyPem,
} from '../audit/signing-key.ts';
import { type VerifyResult, verifyAuditDatabase } from '../audit/verify.ts';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import { parseCommandArgs } from './args.ts';
import { exportPostgres, prunePostgres, verifyPostgres } from './audit-postgres.ts';
import { createProgress } from './progress.ts';
import { UsageError } from './usage-error.ts';

export const AUDIT_HELP = `Usage: portcullis audit <verify|export|prune> [options]

  audit verify [--public-key FILE]... [--allow-unsigned-tail] [--file AUDIT_DB] [--json]
      Checks the whole chain (seq continuity, every record's hash, every link) and every
      signed checkpoint, and names the first record that was altered, deleted or inserted.
      Records after the last signed checkpoint are unsigned: nothing vouches for them (the
      chain has no secret, so a forged record can be chained on), and verify fails on them
      unless --allow-unsigned-tail is given. A running gateway signs its head every
      audit.checkpoint_interval_ms and at shutdown, so a tail is normal while it runs.
      Exit 0: valid. Exit 1: tampered, unsigned tail (or unreadable), with the finding.
      Exit 2: bad usage. Checkpoints must be signed by the configured audit signing key, or
      by one of the --public-key files (PEM; repeat for rotated keys) when given.
      --file checks that SQLite audit file instead of the configured log.
  audit export --from TIME --to TIME [--format jsonl|csv] [--file AUDIT_DB]
      Writes the records with from <= time < to to stdout, oldest first. TIME is ISO-8601
      with a zone, or a date: 2025-01-31, 2025-01-31T12:00:00Z. Default format: jsonl.
  audit prune --before TIME
      Removes records older than TIME, in whole ranges a checkpoint has signed, and leaves a
      signed retention anchor that verify starts from (records after it stay verifiable;
      deleting more is still detected). TIME must be at least 30 days ago. Safe while the
      gateway runs. The prune itself is recorded in the log. (audit.retention_days does
      this automatically, hourly.)

With store.driver postgres the log is in the database: one hash chain per gateway instance.
verify checks every chain and names the first bad record of each; export reads all chains
(each record names its chain); prune works across them.

Common options:
  --config FILE     Config file whose audit log to read (default: $PORTCULLIS_CONFIG,
                    ./portcullis.yaml, or the demo's ./data folder)
  --data-dir DIR    Without a config file: the demo's state folder (default ./data)
`;

export async function runAudit(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
      'public-key': { type: 'string', multiple: true },
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string' },
      before: { type: 'string' },
      'allow-unsigned-tail': { type: 'boolean' },
      file: { type: 'string' },
    },
    AUDIT_HELP,
    true,
  );
  if (values.help) {
    process.stdout.write(AUDIT_HELP);
    return 0;
  }
  const [sub, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"\n\n${AUDIT_HELP}`);
  if (sub !== 'verify' && sub !== 'export' && sub !== 'prune')
    throw new UsageError(`expected verify, export or prune\n\n${AUDIT_HELP}`);
  if (sub !== 'prune' && values.before !== undefined) throw new UsageError('--before belongs to "audit prune"');
  let state: { audit: AuditConfig; dataDir: string };
  try {
    state = resolveAuditState(values.config, values['data-dir']);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  if (values.file !== undefined) {
    if (sub === 'prune') throw new UsageError('--file belongs to "audit verify" and "audit export"');
    state = { ...state, audit: { ...state.audit, path: resolve(values.file), postgres: undefined } };
  }
  if (sub === 'verify') {
    if (values.from !== undefined || values.to !== undefined || values.format !== undefined)
      throw new UsageError('--from, --to and --format belong to "audit export"');
    if (state.audit.postgres !== undefined) {
      return verifyPostgres(
        state.audit.postgres,
        trustedKeys(state, values['public-key'] ?? []),
        values.json === true,
        values['allow-unsigned-tail'] === true,
      );
    }
    return verify(state, values['public-key'] ?? [], values.json === true, values['allow-unsigned-tail'] === true);
  }
  if (values['public-key'] !== undefined || values.json !== undefined || values['allow-unsigned-tail'] !== undefined) {
    throw new UsageError('--public-key, --allow-unsigned-tail and --json belong to "audit verify"');
  }
  if (sub === 'prune') {
    if (values.from !== undefined || values.to !== undefined || values.format !== undefined)
      throw new UsageError('--from, --to and --format belong to "audit export"');
    return prune(state, values.before);
  }
  if (state.audit.postgres !== undefined) {
    const range = parseExportRange(values.from, values.to);
    if (typeof range === 'string') throw new UsageError(range);
    return exportPostgres(state.audit.postgres, range, exportFormat(values.format));
  }
  return exportRecords(state.audit.path, values.from, values.to, values.format);
}

function exportFormat(format: string | undefined): ExportFormat {
  const fmt = (format ?? 'jsonl') as ExportFormat;
  if (!EXPORT_FORMATS.includes(fmt)) throw new UsageError(`--format must be one of: ${EXPORT_FORMATS.join(', ')}`);
  return fmt;
}

function verify(
  state: { audit: AuditConfig; dataDir: string },
  publicKeyFiles: readonly string[],
  json: boolean,
  allowUnsignedTail: boolean,
): number {
  const trusted = trustedKeys(state, publicKeyFiles);
  const path = state.audit.path;
  let result: VerifyResult;
  try {
    const db = openAuditDatabaseForReading(path);
    try {
      result = verifyAuditDatabase(db, { trustedPublicKeys: trusted, allowUnsignedTail });
    } finally {
      db.close();
    }
  } catch (err) {
    const message = (err as Error).message;
    if (json) process.stdout.write(`${JSON.stringify({ path, ok: false, error: message })}\n`);
    else process.stderr.write(`portcullis: ${message}\n`);
    return 1;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ path, ...result, trustedKeys: trusted.map(fingerprintOf) })}\n`);
    return result.ok ? 0 : 1;
  }
  const lines = [`Audit log ${path}: ${result.ok ? 'VALID' : 'TAMPERED'}`];
  if (result.finding)
    lines.push(`  ${result.finding.message}`, `  first bad record: seq ${result.finding.seq} (${result.finding.kind})`);
  const chainFinding =
    result.finding !== undefined &&
    !['truncated', 'rewritten', 'unsigned_tail'].includes(result.finding.kind) &&
    !result.finding.kind.startsWith('checkpoint');
  if (result.finding?.kind === 'unsigned_tail') lines[0] = `Audit log ${path}: UNSIGNED TAIL`;
  if (chainFinding && result.finding) {
    lines.push(
      `  chain intact up to seq ${result.finding.seq - 1}; trusted key(s): ${trusted.map(fingerprintOf).join(', ')}`,
    );
  } else {
    lines.push(
      `  records: ${result.records}, head seq ${result.head.seq} (hash ${result.head.hash.slice(0, 16)}…)`,
      `  checkpoints: ${result.checkpoints}, last signed seq ${result.lastCheckpointSeq}; trusted key(s): ${trusted.map(fingerprintOf).join(', ')}`,
    );
  }
  if (result.prunedThroughSeq > 0)
    lines.push(`  records up to seq ${result.prunedThroughSeq} were pruned by retention (signed anchor verified)`);
  if (result.ok && result.unsignedRecords > 0) {
    lines.push(
      `  ${result.unsignedRecords} record(s) after the last checkpoint are chained but not signed (accepted: --allow-unsigned-tail)`,
    );
  }
  (result.ok ? process.stdout : process.stderr).write(`${lines.join('\n')}\n`);
  return result.ok ? 0 : 1;
}

function trustedKeys(state: { audit: AuditConfig; dataDir: string }, files: readonly string[]): string[] {
  if (files.length > 0) {
    return files.map((file) => {
      let pem: string;
      try {
        pem = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read --public-key ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      try {
        return publicKeyFromPem(pem, `--public-key ${file}`);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    });
  }
  try {
    return [
      publicKeyFromPem(
        resolveSigningKeyPem(state.audit.signingKeyPem, state.audit, { create: false }),
        'audit.signing_key',
      ),
    ];
  } catch (err) {
    throw new UsageError(`no trusted audit signing key: ${(err as Error).message}; pass --public-key FILE`);
  }
}

function exportRecords(
  path: string,
  from: string | undefined,
  to: string | undefined,
  format: string | undefined,
): number {
  const range = parseExportRange(from, to);
  if (typeof range === 'string') throw new UsageError(range);
  const fmt = exportFormat(format);
  let db: DatabaseSync;
  try {
    db = openAuditDatabaseForReading(path);
  } catch (err) {
    process.stderr.write(`portcullis: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    // Progress on stderr (stdout is the export): a bar on a terminal, plain lines otherwise.
    const count = db
      .prepare('SELECT COUNT(*) AS n FROM audit_records WHERE time >= ? AND time < ?')
      .get(range.from.toISOString(), range.to.toISOString()) as { n: number | bigint };
    // Records printed to the terminal are their own progress: a bar would be torn by them.
    const progress =
      process.stdout.isTTY === true
        ? { tick: () => undefined, finish: () => undefined }
        : createProgress({ label: 'Exporting audit records', unit: 'records', total: Number(count.n) });
    let header = fmt === 'csv';
    exportAuditRecords(db, range, fmt, (chunk) => {
      process.stdout.write(chunk);
      if (header) header = false;
      else progress.tick();
    });
    progress.finish();
  } finally {
    db.close();
  }
  return 0;
}

function resolveAuditState(
  configFlag: string | undefined,
  dataDirFlag: string | undefined,
): { audit: AuditConfig; dataDir: string } {
  const configPath =
    configFlag ??
    process.env.PORTCULLIS_CONFIG ??
    (existsSync('portcullis.yaml') && dataDirFlag === undefined ? 'portcullis.yaml' : undefined);
  if (configPath !== undefined) {
    if (dataDirFlag !== undefined) throw new UsageError('use either --config or --data-dir, not both');
    const cfg = loadConfig(configPath);
    return { audit: cfg.audit, dataDir: cfg.security.dataDir };
  }
  const dataDir = resolve(dataDirFlag ?? 'data');
  return { audit: defaultAuditConfig(dataDir), dataDir };
}

const MIN_PRUNE_AGE_DAYS = 30;

async function prune(state: { audit: AuditConfig; dataDir: string }, before: string | undefined): Promise<number> {
  if (before === undefined) throw new UsageError('audit prune needs --before TIME');
  const range = parseExportRange('1970-01-01', before);
  if (typeof range === 'string') throw new UsageError(range.replaceAll('--to', '--before'));
  const cutoff = range.to;
  const latest = Date.now() - MIN_PRUNE_AGE_DAYS * 86_400_000;
  if (cutoff.getTime() > latest)
    throw new UsageError(
      `--before must be at least ${MIN_PRUNE_AGE_DAYS} days ago (no later than ${new Date(latest).toISOString()})`,
    );
  let signer: CheckpointSigner;
  try {
    signer = createSigner(
      parsePrivateKeyPem(
        resolveSigningKeyPem(state.audit.signingKeyPem, state.audit, { create: false }),
        'audit.signing_key',
      ),
    );
  } catch (err) {
    process.stderr.write(`portcullis: cannot prune without the audit signing key: ${(err as Error).message}\n`);
    return 1;
  }
  if (state.audit.postgres !== undefined)
    return prunePostgres({ ...state.audit, postgres: state.audit.postgres }, state.dataDir, signer, cutoff);
  if (!existsSync(state.audit.path)) {
    process.stderr.write(`portcullis: audit log ${state.audit.path} does not exist\n`);
    return 1;
  }
  const db = openAuditDatabaseForWriting(state.audit.path);
  try {
    const result = pruneAuditLog(db, signer, cutoff);
    if (result.records > 0) {
      const writer = createChainWriter(db, signer, state.audit.checkpointEvery);
      writer.append([
        prepareEntry({
          actor: cliActor(),
          action: 'audit.prune',
          target: null,
          decision: 'allowed',
          reason: null,
          requestId: null,
          metadata: { records: result.records, through_seq: result.throughSeq, cutoff: cutoff.toISOString() },
        }),
      ]);
      // Leave nothing unsigned behind: verify fails on an unsigned tail.
      writer.checkpoint();
    }
    process.stdout.write(
      result.records === 0
        ? `Nothing to prune before ${cutoff.toISOString()} (only whole signed ranges are pruned).\n`
        : `Pruned ${result.records} record(s) before ${cutoff.toISOString()}; the chain now starts after seq ${result.throughSeq}.\n`,
    );
    return 0;
  } finally {
    db.close();
  }
}
