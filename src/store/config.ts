/**
 * The `store` section: `driver: sqlite` (the embedded default, one file) or `driver: postgres`
 * (shared by every instance). The PostgreSQL URL may hold a password, so it must be a
 * `${ENV}`/`${file:…}` reference, and problems never echo its value.
 */
import { resolve } from 'node:path';
import { keysOf } from '../config/keys.ts';
import { type ConfigReader, type Located, readPath } from '../config/reader.ts';
import { resolveSecretReference, type SecretContext } from '../config/secrets.ts';
import { STORE_SPEC } from './config.keys.ts';
import type { StoreConfig } from './config-types.ts';

const DRIVERS = ['sqlite', 'postgres'] as const;
const KEYS_BY_DRIVER = { sqlite: ['path'], postgres: ['url', 'pool_size', 'schema'] } as const;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
export const MAX_STORE_POOL_SIZE = 200;

export function readStore(r: ConfigReader, at: Located, baseDir: string, secrets: SecretContext): StoreConfig {
  const m = r.entries(at, keysOf(STORE_SPEC));
  const f = (key: string): Located => r.field(m, at, key);
  const driver = r.oneOf(f('driver'), DRIVERS, 'sqlite') ?? 'sqlite';
  for (const other of DRIVERS) {
    if (other === driver) continue;
    for (const key of KEYS_BY_DRIVER[other]) {
      if (m?.has(key))
        r.reportDependent(f(key), f('driver').path, `applies to driver ${other} only (driver is ${driver})`);
    }
  }
  if (driver === 'sqlite') {
    return { driver, path: resolve(baseDir, readPath(r, f('path'), './data/portcullis.db')) };
  }
  const poolSize = r.int(f('pool_size'), { min: 1, max: MAX_STORE_POOL_SIZE, default: 10 }) ?? 10;
  const schema = r.str(f('schema'), '');
  if (schema !== undefined && schema !== '' && (!SCHEMA_NAME.test(schema) || schema.startsWith('pg_'))) {
    r.report(
      f('schema'),
      'expected a lower-case identifier (a-z, 0-9, _; at most 63 characters; not starting with pg_)',
    );
  }
  return { driver, url: readUrl(r, f('url'), secrets), poolSize, ...(schema ? { schema } : {}) };
}

function readUrl(r: ConfigReader, at: Located, secrets: SecretContext): string {
  const text = r.rawStr(at);
  if (text === undefined) return '';
  const res = resolveSecretReference(text, secrets);
  if (!res.ok) {
    r.report(at, `${res.error} (the URL may hold a password, e.g. url: "\${DATABASE_URL}")`);
    return '';
  }
  if (!/^postgres(?:ql)?:\/\/[^\s]+$/.test(res.value)) {
    r.report(at, 'the referenced value is not a postgres:// or postgresql:// URL');
    return '';
  }
  return res.value;
}
