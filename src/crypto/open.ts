/**
 * The one way the gateway (and its CLI) gets an Envelope: the master key (KEK) from
 * `security.master_key`, the old ones from `security.previous_master_keys` (unwrap only, during
 * a rotation), or a pluggable KEK provider (a KMS behind the KekProvider interface); the data
 * keys in the configured Store. Without a configured master key (the embedded demo) one is
 * generated once into `<data_dir>/master.key` (0600) with a warning, as key_hash_secret is.
 *
 * Startup fails, with a message naming the KEK ids on both sides, when a stored data key is
 * wrapped by a KEK that is not configured: there is never a plaintext fallback.
 *
 * The tenant key vault (`security.tenant_keys`, vault/open-vault.ts) seals every stored data
 * key; at startup any key stored before the vault was enabled is sealed (sealLegacyKeys), so
 * backups taken from then on are covered by `tenants shred`. The vault is closed with the
 * envelope.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.ts';
import type { Store } from '../store/store.ts';
import type { SecurityConfig } from './config-types.ts';
import { CryptoError, isCryptoError } from './crypto-error.ts';
import { createDataKeys, type DataKeysOptions, sealLegacyKeys } from './data-keys.ts';
import { createEnvelope, type Envelope } from './envelope.ts';
import type { KekProvider } from './kek/kek-provider.ts';
import { kekFromFile } from './kek/kek-sources.ts';
import { masterKeyFromValue } from './kek/master-key.ts';
import { openTenantKeyVault } from './vault/open-vault.ts';
import type { TenantKeyVault } from './vault/tenant-key-vault.ts';

export const MASTER_KEY_FILE = 'master.key';
export const CACHE_TTL_MS = 60_000;
const POSIX = process.platform !== 'win32';

export interface OpenEnvelopeOptions {
  /** A KMS-backed KEK instead of `security.master_key` (the pluggable KMS interface). */
  readonly kek?: KekProvider;
  /** KMS-backed previous KEKs (unwrap only), in addition to `security.previous_master_keys`. */
  readonly previousKeks?: readonly KekProvider[];
  /** Tuning for tests (cache TTL, encryptions per key). */
  readonly dataKeys?: Pick<DataKeysOptions, 'maxEncryptionsPerKey' | 'reservationBlock' | 'cache'>;
  /** A tenant key vault instead of `security.tenant_keys` (e.g. a KMS with per-tenant keys); `null` for none. */
  readonly vault?: TenantKeyVault | null;
}

/**
 * The gateway's one envelope, opened on first use and handed to everything that needs it (the
 * admin API, the OAuth server, the payload log, shred notices), so every user in the process
 * shares one key cache and one set of reservations. create-gateway makes it and closes it.
 */
export interface EnvelopeSource {
  /** The envelope; opened by the first call (a failed open is tried again by the next one). */
  get(): Promise<Envelope>;
  /** Wipes the cached data keys of a tenant shredded elsewhere if the envelope is open; true when it was. */
  forgetTenant(tenantId: string): Promise<boolean>;
  /** Wipes the cached keys and closes the vault; later calls to get() open a fresh one. */
  close(): Promise<void>;
}

export function envelopeSource(
  security: SecurityConfig,
  store: Store,
  log: Logger,
  opts: OpenEnvelopeOptions = {},
): EnvelopeSource {
  let opening: Promise<Envelope> | undefined;
  return {
    get() {
      if (opening === undefined) {
        const p = open(security, store, log, opts);
        opening = p;
        p.catch(() => {
          if (opening === p) opening = undefined;
        });
      }
      return opening;
    },
    async forgetTenant(tenantId) {
      const env = await opening?.catch(() => undefined);
      if (env === undefined) return false;
      env.dataKeys.forgetTenant(tenantId);
      return true;
    },
    async close() {
      const p = opening;
      opening = undefined;
      await closeEnvelope(await p?.catch(() => undefined));
    },
  };
}

/** Opens an envelope for one use (CLI commands); the caller closes it with closeEnvelope. */
export function openEnvelope(
  security: SecurityConfig,
  store: Store,
  log: Logger,
  opts: OpenEnvelopeOptions = {},
): Promise<Envelope> {
  return open(security, store, log, opts);
}

/** Wipes an envelope's cached keys and closes its vault (undefined: nothing was opened). */
export async function closeEnvelope(env: Envelope | undefined): Promise<void> {
  env?.dataKeys.close();
  await env?.dataKeys.vault?.close();
}

async function open(security: SecurityConfig, store: Store, log: Logger, opts: OpenEnvelopeOptions): Promise<Envelope> {
  const current = opts.kek ?? currentKek(security, store.driver, log);
  const previous = [
    ...(security.previousMasterKeys ?? []).map((v, i) => masterKeyFromValue(v, `security.previous_master_keys[${i}]`)),
    ...(opts.previousKeks ?? []),
  ];
  const vault = opts.vault === undefined ? openTenantKeyVault(security, store.driver, log) : (opts.vault ?? undefined);
  // Unwrapped keys are kept a minute: a tenant shredded from another process stops being readable here within it.
  const dataKeys = createDataKeys({
    cache: { ttlMs: CACHE_TTL_MS },
    ...opts.dataKeys,
    repository: store.dataKeys,
    kek: current,
    previousKeks: previous,
    ...(vault === undefined ? {} : { vault }),
  });
  try {
    const check = await dataKeys.verifyKeks();
    if (vault !== undefined) {
      const sealed = await sealLegacyKeys(store.dataKeys, vault);
      if (sealed > 0)
        log.info(
          { event: 'crypto.data_keys_sealed', count: sealed, vault: vault.kind },
          `sealed ${sealed} data key(s) stored before the tenant key vault was enabled`,
        );
    }
    if (check.retired.length > 0) {
      log.warn(
        { event: 'crypto.previous_master_key_unused', kekIds: check.retired },
        'security.previous_master_keys wrap no data key any more: the rotation is complete; remove them from the config and destroy them',
      );
    } else if (previous.length > 0) {
      const pending = check.inUse.filter((id) => id !== current.id);
      if (pending.length > 0)
        log.info(
          { event: 'crypto.master_key_rotation_pending', kekIds: pending },
          'data keys still wrapped by a previous master key: run "portcullis keys rotate-master"',
        );
    }
  } catch (err) {
    dataKeys.close();
    await vault?.close();
    if (isCryptoError(err, 'wrong_kek')) {
      throw new CryptoError(
        'wrong_kek',
        `encryption at rest cannot start: ${err.message}. Check security.master_key (and security.previous_master_keys during a rotation); Portcullis never falls back to storing plaintext`,
        { cause: err },
      );
    }
    throw err;
  }
  log.info(
    {
      event: 'crypto.ready',
      kekId: current.id,
      previousKekIds: previous.map((k) => k.id),
      tenantKeyVault: vault?.kind ?? 'none',
    },
    'encryption at rest ready',
  );
  return createEnvelope({ dataKeys });
}

function currentKek(security: SecurityConfig, driver: string, log: Logger): KekProvider {
  if (security.masterKey !== undefined) return masterKeyFromValue(security.masterKey, 'security.master_key');
  const path = join(security.dataDir, MASTER_KEY_FILE);
  const created = ensureGeneratedKey(security.dataDir, path);
  log.warn(
    { event: 'crypto.generated_master_key', path, created },
    `no security.master_key configured: using a master key generated under the data dir. Production must configure security.master_key (and keep a copy: losing it loses every encrypted value)${driver === 'sqlite' ? '' : '; with a shared store every instance needs the same key, so instances with other generated keys will refuse to start'}`,
  );
  return kekFromFile(path);
}

/**
 * Creates `<dataDir>/master.key` once: a complete temp file hard-linked into place, so two
 * processes starting together agree on one key. True when this call created it.
 */
function ensureGeneratedKey(dataDir: string, path: string): boolean {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dataDir);
    if (!st.isDirectory()) throw new CryptoError('bad_key', `data dir ${dataDir} is not a directory`);
    // Whoever can write the folder could swap the key file for one they know.
    if (POSIX && (st.mode & 0o022) !== 0) {
      throw new CryptoError(
        'bad_key',
        `data dir ${dataDir} is writable by group or others (mode 0${(st.mode & 0o777).toString(8)}); run: chmod 700 ${dataDir}`,
      );
    }
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    throw new CryptoError(
      'bad_key',
      `cannot create data dir ${dataDir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause: err },
    );
  }
  const key = randomBytes(32);
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new CryptoError('bad_key', `cannot create ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: err,
    });
  } finally {
    key.fill(0);
    rmSync(tmp, { force: true });
  }
}
