/**
 * The `audit` section: where the tamper-evident audit log lives and how often its head is
 * signed. `signing_key` is a reference to a PKCS#8 PEM Ed25519 key (`${file:/path}` or
 * `${ENV_VAR}`); without it a key is generated once under `key_dir`, which by default is a
 * folder beside the data folder (`<data_dir>-keys`), never the audit log's own folder: a copy
 * of the log's folder must not carry the key that vouches for it. With `store.driver:
 * postgres` the log lives in the database too, so `path` does not apply.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { keysOf } from '../config/keys.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import type { SecretContext } from '../config/secrets.ts';
import type { StoreConfig } from '../store/config-types.ts';
import { AUDIT_SPEC } from './config.keys.ts';
import type { AuditConfig } from './config-types.ts';
import { AUDIT_SIGNING_KEY_FILE, parsePrivateKeyPem } from './signing-key.ts';

const AUDIT_KEYS = keysOf(AUDIT_SPEC);
const REFERENCE = /^\$\{([^}]*)\}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_PEM_BYTES = 16 * 1024;

/** Records between signatures are at most this old: a forged record at the end fails verify within this window. */
export const AUDIT_DEFAULTS = {
  file: 'audit.db',
  checkpointEvery: 1000,
  checkpointIntervalMs: 5_000,
  flushIntervalMs: 1_000,
} as const;

/**
 * The generated key's default folder. With the SQLite log (in the data folder): a sibling of the
 * data folder, so copying one does not copy the other. With PostgreSQL the log is in the
 * database and the data folder holds none of it, so the key stays in `<data_dir>/keys`: the
 * one place a container (read-only root file system, one writable state volume) can write.
 */
export function defaultKeyDir(dataDir: string, driver: StoreConfig['driver'] = 'sqlite'): string {
  return driver === 'postgres' ? join(dataDir, 'keys') : join(dirname(dataDir), `${basename(dataDir) || 'data'}-keys`);
}

/** The audit settings used when there is no config file (the demo's data folder). */
export function defaultAuditConfig(dataDir: string): AuditConfig {
  return {
    path: join(dataDir, AUDIT_DEFAULTS.file),
    signingKeyPem: undefined,
    generatedKeyPath: join(defaultKeyDir(dataDir), AUDIT_SIGNING_KEY_FILE),
    legacyKeyPath: join(dataDir, AUDIT_SIGNING_KEY_FILE),
    checkpointEvery: AUDIT_DEFAULTS.checkpointEvery,
    checkpointIntervalMs: AUDIT_DEFAULTS.checkpointIntervalMs,
    retentionDays: undefined,
  };
}

/** True when `inner` is `outer` or inside it. */
function within(outer: string, inner: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export function readAudit(
  r: ConfigReader,
  at: Located,
  baseDir: string,
  dataDir: string,
  secrets: SecretContext,
  store?: StoreConfig,
): AuditConfig {
  const m = r.entries(at, AUDIT_KEYS);
  const f = (key: (typeof AUDIT_KEYS)[number]): Located => r.field(m, at, key);
  let path = join(dataDir, AUDIT_DEFAULTS.file);
  const pathAt = f('path');
  if (pathAt.node !== null) {
    const p = r.str(pathAt);
    if (store?.driver === 'postgres')
      r.report(
        pathAt,
        'applies to store.driver sqlite only: with postgres the audit log lives in the database (an older file can still be checked with "audit verify --file")',
      );
    else if (p !== undefined && (p === '' || p.includes('\u0000'))) r.report(pathAt, 'expected a non-empty file path');
    else if (p !== undefined) path = resolve(baseDir, p);
  }
  let keyDir = defaultKeyDir(dataDir, store?.driver);
  const keyDirAt = f('key_dir');
  if (keyDirAt.node !== null) {
    const p = r.str(keyDirAt);
    if (p !== undefined && (p === '' || p.includes('\u0000'))) r.report(keyDirAt, 'expected a non-empty folder path');
    else if (p !== undefined) keyDir = resolve(baseDir, p);
  }
  if (
    store?.driver !== 'postgres' &&
    within(dirname(path), keyDir) &&
    !r.problems.some((p) => p.path === keyDirAt.path || p.path === pathAt.path)
  ) {
    r.report(
      keyDirAt,
      `the generated signing key would sit in the audit log's folder ${dirname(path)}: whoever copies or can write that folder could forge checkpoints; choose a folder outside it (or set audit.signing_key)`,
    );
  }
  let signingKeyPem: string | undefined;
  const keyAt = f('signing_key');
  if (keyAt.node !== null) {
    const text = r.rawStr(keyAt);
    if (text !== undefined) {
      const res = resolvePemReference(text, secrets);
      if (typeof res !== 'string') r.report(keyAt, res.error);
      else {
        try {
          parsePrivateKeyPem(res, 'the referenced key');
          signingKeyPem = res;
        } catch (err) {
          r.report(keyAt, (err as Error).message);
        }
      }
    }
  }
  const durability = r.oneOf(f('durability'), ['fsync', 'relaxed'] as const, 'fsync') ?? 'fsync';
  const flushAt = f('flush_interval_ms');
  let flushIntervalMs: number | undefined;
  if (flushAt.node !== null) {
    if (durability !== 'relaxed')
      r.report(
        flushAt,
        'applies only with audit.durability: relaxed (with fsync every commit is on disk before it is acknowledged)',
      );
    else if (store?.driver === 'postgres')
      r.report(
        flushAt,
        'applies to the SQLite audit log only: with store.driver postgres the database server flushes its own log (within 3 × its wal_writer_delay)',
      );
    else flushIntervalMs = r.int(flushAt, { min: 10, max: 60_000 });
  }
  return {
    path,
    ...(store?.driver === 'postgres' ? { postgres: { url: store.url, schema: store.schema ?? 'public' } } : {}),
    signingKeyPem,
    generatedKeyPath: join(keyDir, AUDIT_SIGNING_KEY_FILE),
    legacyKeyPath: join(dataDir, AUDIT_SIGNING_KEY_FILE),
    checkpointEvery:
      r.int(f('checkpoint_every'), { min: 1, max: 100_000, default: AUDIT_DEFAULTS.checkpointEvery }) ?? 0,
    checkpointIntervalMs:
      r.int(f('checkpoint_interval_ms'), {
        min: 1_000,
        max: 86_400_000,
        default: AUDIT_DEFAULTS.checkpointIntervalMs,
      }) ?? 0,
    writer: r.oneOf(f('writer'), ['thread', 'inline'] as const, 'inline') ?? 'inline',
    durability,
    ...(durability === 'relaxed' && store?.driver !== 'postgres'
      ? { flushIntervalMs: flushIntervalMs ?? AUDIT_DEFAULTS.flushIntervalMs }
      : {}),
    // At least 30 days: an audit trail shorter than a month serves no investigation or audit.
    retentionDays: f('retention_days').node === null ? undefined : r.int(f('retention_days'), { min: 30, max: 36_500 }),
  };
}

/**
 * Like the generic secret references, but a PEM spans lines, so line breaks are kept. The
 * message names the variable or file, never the value.
 */
function resolvePemReference(text: string, secrets: SecretContext): string | { error: string } {
  const m = REFERENCE.exec(text);
  if (!m)
    return {
      error:
        'expected a ${file:/path/to/key.pem} or ${ENV_VAR} reference to an Ed25519 private key (PEM), not a literal value',
    };
  const inner = m[1] ?? '';
  if (inner.startsWith('file:')) {
    const file = resolve(secrets.baseDir, inner.slice(5));
    if (inner.length === 5) return { error: 'invalid reference: ${file:} needs a path' };
    try {
      const st = statSync(file);
      if (!st.isFile()) return { error: `key file ${file} is not a regular file` };
      if (st.size > MAX_PEM_BYTES) return { error: `key file ${file} is larger than ${MAX_PEM_BYTES} bytes` };
      return readFileSync(file, 'utf8');
    } catch (err) {
      return { error: `cannot read key file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
    }
  }
  if (!ENV_NAME.test(inner))
    return { error: 'invalid reference: expected ${ENV_VAR} (letters, digits, _) or ${file:/path}' };
  const value = secrets.env[inner];
  if (value === undefined || value === '') return { error: `environment variable ${inner} is not set` };
  return value;
}
