/**
 * The `audit` section: where the tamper-evident audit log lives and how often its head is
 * signed. `signing_key` is a reference to a PKCS#8 PEM Ed25519 key (`${file:/path}` or
 * `${ENV_VAR}`); without it a key is generated once under `security.data_dir`.
 */
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parsePrivateKeyPem } from '../audit/signing-key.ts';
import { keysOf } from './keys.ts';
import { AUDIT_SPEC } from './read-audit.keys.ts';
import type { ConfigReader, Located } from './reader.ts';
import type { SecretContext } from './secrets.ts';
import type { AuditConfig } from './types.ts';

const AUDIT_KEYS = keysOf(AUDIT_SPEC);
const REFERENCE = /^\$\{([^}]*)\}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_PEM_BYTES = 16 * 1024;

export const AUDIT_DEFAULTS = { file: 'audit.db', checkpointEvery: 1000, checkpointIntervalMs: 60_000 } as const;

/** The audit settings used when there is no config file (the demo's data folder). */
export function defaultAuditConfig(dataDir: string): AuditConfig {
  return {
    path: join(dataDir, AUDIT_DEFAULTS.file),
    signingKeyPem: undefined,
    checkpointEvery: AUDIT_DEFAULTS.checkpointEvery,
    checkpointIntervalMs: AUDIT_DEFAULTS.checkpointIntervalMs,
    retentionDays: undefined,
  };
}

export function readAudit(
  r: ConfigReader,
  at: Located,
  baseDir: string,
  dataDir: string,
  secrets: SecretContext,
): AuditConfig {
  const m = r.entries(at, AUDIT_KEYS);
  const f = (key: (typeof AUDIT_KEYS)[number]): Located => r.field(m, at, key);
  let path = join(dataDir, AUDIT_DEFAULTS.file);
  const pathAt = f('path');
  if (pathAt.node !== null) {
    const p = r.str(pathAt);
    if (p !== undefined && (p === '' || p.includes('\u0000'))) r.report(pathAt, 'expected a non-empty file path');
    else if (p !== undefined) path = resolve(baseDir, p);
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
  return {
    path,
    signingKeyPem,
    checkpointEvery:
      r.int(f('checkpoint_every'), { min: 1, max: 100_000, default: AUDIT_DEFAULTS.checkpointEvery }) ?? 0,
    checkpointIntervalMs:
      r.int(f('checkpoint_interval_ms'), {
        min: 1_000,
        max: 86_400_000,
        default: AUDIT_DEFAULTS.checkpointIntervalMs,
      }) ?? 0,
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
