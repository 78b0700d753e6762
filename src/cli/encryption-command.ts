/**
 * Operator commands for encryption at rest: `keys rotate-master`, `keys rotate-data`,
 * `tenants shred` and `payloads show`. They open the configured store and envelope exactly as
 * the gateway does (src/crypto/open.ts), so a wrong master key stops them before they touch
 * anything. Rotation and shredding are audited.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cliActor, keyRevokedEntry } from '../audit/key-events.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import type { AuditEntry } from '../audit/types.ts';
import { loadConfig } from '../config/load.ts';
import { defaultAuditConfig } from '../config/read-audit.ts';
import { PAYLOAD_LOG_DEFAULTS } from '../config/read-payload-log.ts';
import type { AuditConfig, PayloadLogConfig, RedisLimitsConfig, SecurityConfig, StoreConfig } from '../config/types.ts';
import { isCryptoError } from '../crypto/crypto-error.ts';
import type { Envelope } from '../crypto/envelope.ts';
import { masterKeyFromValue } from '../crypto/kek/master-key.ts';
import { closeEnvelope, openEnvelope } from '../crypto/open.ts';
import { reencrypt, rotateMasterKey, type EncryptedItem } from '../crypto/rotation.ts';
import { shredTenant, type ShredResult } from '../crypto/shred.ts';
import { publishKeyRevocation, publishTenantShred } from '../identity/revocation-broadcast.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { createPayloadLog, payloadBinding } from '../payload-log/payload-log.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { parseCommandArgs } from './args.ts';
import { UsageError } from './usage-error.ts';

const COMMON = `Common options:
  --config FILE     Config file whose store and master key to use (default: $PORTCULLIS_CONFIG,
                    ./portcullis.yaml, or the demo's ./data folder)
  --data-dir DIR    Without a config file: the demo's state folder (default ./data)
`;

export const KEY_ROTATION_HELP = `Usage: portcullis keys <rotate-master|rotate-data> [options]

  keys rotate-master [--batch-size N]
      Re-wraps every data key under security.master_key. Before running it, set the NEW key as
      security.master_key and move the OLD one to security.previous_master_keys (on every
      instance). Online and resumable: rerun it after an interruption; nothing is lost. When it
      reports "remaining 0", remove previous_master_keys and destroy the old key.
  keys rotate-data --tenant T [--batch-size N] [--resume]
      Gives tenant T a new data key and re-encrypts its stored payloads under it, in batches,
      with progress. After an interruption, rerun with --resume: no new key is made and only
      the rows not yet under the current key are re-encrypted.

${COMMON}`;

export const TENANTS_HELP = `Usage: portcullis tenants <shred|delete> TENANT --yes [options]

  tenants shred TENANT --yes
      Crypto-shreds the tenant: destroys all of its data keys, so every value encrypted for it
      (payload log rows, wherever a copy lives) becomes unreadable. Irreversible. It also
      destroys the tenant's shred key in the tenant key vault (security.tenant_keys), so
      backups of the database taken before the shred cannot read its data either; a copy of
      the vault taken before the shred can, for as long as it is kept. Without a vault
      (vault: none), rotate the master key (keys rotate-master) and destroy the old one to
      make the shred final for database backups. Safe to rerun. With a shared Redis, running
      gateways are told to wipe their cached keys of the tenant at once.
  tenants delete TENANT --yes
      Deletes a tenant: suspends it (every caller and admin of it is refused within about a
      second), revokes all of its API keys, then crypto-shreds it as above. The tenant's record
      stays, suspended, so its id is not reused and the audit log keeps naming it. Audited;
      safe to rerun after an interruption.

${COMMON}`;

export const PAYLOADS_HELP = `Usage: portcullis payloads show REQUEST_ID [options]

  payloads show REQUEST_ID [--json]
      Decrypts and prints the logged (redacted) request and response bodies of one request.

${COMMON}`;

interface State {
  readonly redis?: RedisLimitsConfig;
  readonly store: StoreConfig;
  readonly security: SecurityConfig;
  readonly audit: AuditConfig;
  readonly payloadLog: PayloadLogConfig;
  readonly logLevel: 'warn' | 'error' | 'info';
}

function resolveState(configFlag: string | undefined, dataDirFlag: string | undefined): State {
  const configPath = configFlag ?? process.env.PORTCULLIS_CONFIG ?? (existsSync('portcullis.yaml') && dataDirFlag === undefined ? 'portcullis.yaml' : undefined);
  if (configPath !== undefined) {
    if (dataDirFlag !== undefined) throw new UsageError('use either --config or --data-dir, not both');
    const cfg = loadConfig(configPath);
    return {
      store: cfg.store, security: cfg.security, audit: cfg.audit, payloadLog: cfg.payloadLog ?? PAYLOAD_LOG_DEFAULTS, logLevel: 'warn',
      ...(cfg.redis === undefined ? {} : { redis: cfg.redis }),
    };
  }
  const dataDir = resolve(dataDirFlag ?? 'data');
  return {
    store: { driver: 'sqlite', path: join(dataDir, 'portcullis.db') },
    security: { dataDir, keyHashSecret: undefined },
    audit: defaultAuditConfig(dataDir),
    payloadLog: PAYLOAD_LOG_DEFAULTS,
    logLevel: 'warn',
  };
}

/** Diagnostics go to stderr so stdout stays the command's output. */
function cliLogger(): Logger {
  return createLogger({ level: 'warn', destination: process.stderr as unknown as Parameters<typeof createLogger>[0]['destination'] });
}

async function withEnvelope<T>(state: State, fn: (store: Store, envelope: Envelope) => Promise<T>): Promise<T> {
  const store = await openStore(state.store);
  try {
    const envelope = await openEnvelope(state.security, store, cliLogger());
    return await fn(store, envelope);
  } finally {
    await closeEnvelope(store);
    await store.close();
  }
}

async function audited(state: State, entry: AuditEntry): Promise<void> {
  const audit = await openConfiguredAuditLog(state.audit, state.security.dataDir);
  try {
    await audit.append(entry);
  } finally {
    await audit.close();
  }
}

function batchSize(value: string | undefined): number {
  if (value === undefined) return 100;
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 10_000) throw new UsageError('--batch-size must be an integer from 1 to 10000');
  return Number(value);
}

export async function runKeyRotation(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    config: { type: 'string' }, 'data-dir': { type: 'string' }, tenant: { type: 'string' }, 'batch-size': { type: 'string' },
    resume: { type: 'boolean' },
  }, KEY_ROTATION_HELP, true);
  if (values.help) {
    process.stdout.write(KEY_ROTATION_HELP);
    return 0;
  }
  const [sub, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const size = batchSize(values['batch-size']);
  const state = resolveState(values.config, values['data-dir']);
  if (sub === 'rotate-master') return rotateMaster(state, size);
  if (sub === 'rotate-data') {
    const tenant = values.tenant?.trim();
    if (!tenant) throw new UsageError('keys rotate-data needs --tenant TENANT');
    return rotateData(state, tenant, size, values.resume === true);
  }
  throw new UsageError(`expected rotate-master or rotate-data\n\n${KEY_ROTATION_HELP}`);
}

async function rotateMaster(state: State, size: number): Promise<number> {
  const previous = state.security.previousMasterKeys ?? [];
  if (state.security.masterKey === undefined || previous.length === 0) {
    process.stderr.write('portcullis: keys rotate-master needs the new key in security.master_key and the old one in security.previous_master_keys (see --help)\n');
    return 2;
  }
  return withEnvelope(state, async (store, envelope) => {
    const target = envelope.dataKeys.keyring.current;
    let total = { rewrapped: 0, skipped: 0, remaining: 0 };
    for (const [i, value] of previous.entries()) {
      const old = masterKeyFromValue(value, `security.previous_master_keys[${i}]`);
      try {
        process.stdout.write(`Re-wrapping data keys from KEK ${old.id} to ${target.id}…\n`);
        const r = await rotateMasterKey(store.dataKeys, old, target, {
          batchSize: size,
          ...(envelope.dataKeys.vault === undefined ? {} : { vault: envelope.dataKeys.vault }),
          onProgress: (p) => process.stdout.write(`  ${p.rewrapped + p.skipped}/${p.total} (re-wrapped ${p.rewrapped}, skipped ${p.skipped})\n`),
        });
        total = { rewrapped: total.rewrapped + r.rewrapped, skipped: total.skipped + r.skipped, remaining: total.remaining + r.remaining };
      } finally {
        old.destroy();
      }
    }
    await audited(state, {
      actor: cliActor(), action: 'crypto.rotate_master', target: target.id, decision: 'allowed', reason: null, requestId: null,
      metadata: { rewrapped: total.rewrapped, skipped: total.skipped, remaining: total.remaining },
    });
    process.stdout.write(`Done: re-wrapped ${total.rewrapped}, skipped ${total.skipped}, remaining ${total.remaining}.\n`);
    if (total.remaining > 0) {
      process.stdout.write('Some data keys are still under an old key (an instance still runs with the old master_key as current): update every instance, then rerun.\n');
      return 1;
    }
    process.stdout.write('Every data key is under the new master key: remove security.previous_master_keys from the config, restart, and destroy the old key.\n');
    return 0;
  });
}

async function rotateData(state: State, tenant: string, size: number, resume: boolean): Promise<number> {
  return withEnvelope(state, async (store, envelope) => {
    const current = resume ? await store.dataKeys.getCurrent(tenant) : await envelope.dataKeys.rotate(tenant);
    if (current === undefined) {
      process.stderr.write(`portcullis: tenant ${tenant} has no data key (nothing was ever encrypted for it, or it was shredded)\n`);
      return 1;
    }
    process.stdout.write(`${resume ? 'Resuming with' : 'New'} data key version ${current.version} of tenant ${tenant}; re-encrypting its payload log…\n`);
    const expected = new Map<string, Buffer>();
    async function* items(): AsyncGenerator<EncryptedItem> {
      let afterId: string | undefined;
      for (;;) {
        const page = await store.payloadLog.listByTenant(tenant, afterId === undefined ? { limit: size } : { afterId, limit: size });
        if (page.length === 0) return;
        for (const row of page) {
          expected.set(row.requestId, row.ciphertext);
          yield { binding: payloadBinding(row.requestId, row.tenantId), ciphertext: row.ciphertext };
        }
        afterId = page[page.length - 1]!.requestId;
      }
    }
    let lost = 0;
    const result = await reencrypt(envelope, items(), {
      batchSize: size,
      save: async (batch) => {
        for (const item of batch) {
          const before = expected.get(item.binding.row);
          // A row purged or changed meanwhile is left as it is.
          if (before === undefined || !(await store.payloadLog.replaceCiphertext(item.binding.row, before, Buffer.from(item.ciphertext)))) lost++;
          expected.delete(item.binding.row);
        }
      },
      onProgress: (p) => process.stdout.write(`  examined ${p.examined}, re-encrypted ${p.reencrypted}, already current ${p.alreadyCurrent}\n`),
    });
    await audited(state, {
      actor: cliActor(), action: 'crypto.rotate_data_key', target: tenant.slice(0, 256), decision: 'allowed', reason: null, requestId: null,
      metadata: { data_key_version: current.version, resumed: resume, reencrypted: result.reencrypted - lost, already_current: result.alreadyCurrent },
    });
    process.stdout.write(`Done: ${result.reencrypted - lost} row(s) re-encrypted, ${result.alreadyCurrent} already current${lost > 0 ? `, ${lost} changed or purged meanwhile (skipped)` : ''}.\n`);
    return 0;
  });
}

export async function runTenants(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    config: { type: 'string' }, 'data-dir': { type: 'string' }, yes: { type: 'boolean' },
  }, TENANTS_HELP, true);
  if (values.help) {
    process.stdout.write(TENANTS_HELP);
    return 0;
  }
  const [sub, tenant, ...extra] = positionals;
  if (sub !== 'shred' && sub !== 'delete') throw new UsageError(`expected shred or delete\n\n${TENANTS_HELP}`);
  if (!tenant || extra.length > 0) throw new UsageError(`usage: portcullis tenants ${sub} TENANT --yes`);
  if (!values.yes) {
    throw new UsageError(sub === 'shred'
      ? `shredding destroys every encrypted value of tenant ${tenant} for good; add --yes to confirm`
      : `deleting suspends tenant ${tenant}, revokes all of its keys and destroys every encrypted value of it for good; add --yes to confirm`);
  }
  const state = resolveState(values.config, values['data-dir']);
  if (sub === 'delete') return deleteTenant(state, tenant);
  return withEnvelope(state, async (_store, envelope) => {
    // Audited first: a shred the log does not show must not happen.
    await audited(state, { actor: cliActor(), action: 'crypto.shred_tenant', target: tenant.slice(0, 256), decision: 'allowed', reason: null, requestId: null });
    const r = await shredTenant(envelope.dataKeys, tenant);
    process.stdout.write(`Shredded tenant ${tenant}: ${r.keysDestroyed} data key(s) destroyed; its encrypted data can no longer be read.\n`);
    await reportShred(state, r);
    return 0;
  });
}

/** What the shred did to backups, and the broadcast that makes running gateways drop the keys now. */
async function reportShred(state: State, r: ShredResult): Promise<void> {
  const told = await publishTenantShred(state.redis, r.tenantId);
  process.stdout.write(told === undefined
    ? 'Running gateways drop their cached copy of these keys within a minute (the key cache TTL) or on restart.\n'
    : `Running gateways were told to drop their cached copy of these keys now (${told} subscriber(s)); any that missed it do within a minute.\n`);
  if (r.vault === 'none') {
    process.stdout.write('No tenant key vault is configured (security.tenant_keys): backups taken before now still hold the wrapped keys; rotate the master key (keys rotate-master) and destroy the old one to make the shred final for them.\n');
  } else {
    process.stdout.write(r.vaultKeyDestroyed
      ? `Tenant shred key destroyed in the ${r.vault} tenant key vault: database backups taken before now cannot read this tenant's data either (a copy of the vault taken before now still could, for as long as it is kept).\n`
      : `No tenant shred key was left in the ${r.vault} tenant key vault (already destroyed): database backups taken before the first shred cannot read this tenant's data.\n`);
  }
}

/**
 * `tenants delete`: suspend, revoke every key, shred; each step is idempotent, so a rerun after
 * an interruption finishes the job. Suspension comes first so nothing new is written for the
 * tenant while its keys are being destroyed.
 */
async function deleteTenant(state: State, tenant: string): Promise<number> {
  return withEnvelope(state, async (store, envelope) => {
    const before = await store.getTenant(tenant);
    if (before === undefined) {
      process.stderr.write(`portcullis: no tenant with id ${JSON.stringify(tenant.slice(0, 80))} (see "portcullis tenants list"; "tenants shred" destroys the data keys of an id without a tenant record)\n`);
      return 1;
    }
    const audit = await openConfiguredAuditLog(state.audit, state.security.dataDir);
    try {
      const actor = cliActor();
      // Audited first: a deletion the log does not show must not happen.
      await audit.append({ actor, action: 'tenant.delete', target: tenant, decision: 'allowed', reason: null, requestId: null, metadata: { tenant, old_status: before.status } });
      if (before.status !== 'suspended') {
        await audit.append({ actor, action: 'tenant.suspend', target: tenant, decision: 'allowed', reason: null, requestId: null, metadata: { tenant, old_status: before.status, status: 'suspended' } });
        if ((await store.updateTenant(tenant, { status: 'suspended' })) === undefined) {
          process.stderr.write(`portcullis: tenant ${tenant} disappeared while it was being deleted\n`);
          return 1;
        }
      }
      let revoked = 0;
      let unannounced = 0;
      const at = new Date().toISOString();
      for (const key of await store.listApiKeys({ tenantId: tenant })) {
        if (key.revokedAt !== null) continue;
        await audit.append(keyRevokedEntry(key.id, actor));
        if (!(await store.revokeApiKey(key.id, at))) continue;
        revoked++;
        if (state.redis !== undefined && (await publishKeyRevocation(state.redis, key.id)) === undefined) unannounced++;
      }
      await audit.append({ actor, action: 'crypto.shred_tenant', target: tenant, decision: 'allowed', reason: null, requestId: null });
      const r = await shredTenant(envelope.dataKeys, tenant);
      process.stdout.write(`Deleted tenant ${tenant}: suspended, ${revoked} API key(s) revoked, ${r.keysDestroyed} data key(s) destroyed; its encrypted data can no longer be read.\n`);
      if (unannounced > 0) process.stderr.write(`portcullis: warning: ${unannounced} revocation(s) could not be broadcast over Redis; gateways refuse those keys once their key cache expires (1 s) and the suspension within about a second\n`);
      await reportShred(state, r);
      return 0;
    } finally {
      await audit.close();
    }
  });
}

export async function runPayloads(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    config: { type: 'string' }, 'data-dir': { type: 'string' }, json: { type: 'boolean' },
  }, PAYLOADS_HELP, true);
  if (values.help) {
    process.stdout.write(PAYLOADS_HELP);
    return 0;
  }
  const [sub, requestId, ...extra] = positionals;
  if (sub !== 'show') throw new UsageError(`expected show\n\n${PAYLOADS_HELP}`);
  if (!requestId || extra.length > 0) throw new UsageError('usage: portcullis payloads show REQUEST_ID');
  const state = resolveState(values.config, values['data-dir']);
  return withEnvelope(state, async (store, envelope) => {
    const payloads = createPayloadLog({ config: state.payloadLog, envelope, repository: store.payloadLog, log: cliLogger() });
    try {
      const shown = await payloads.show(requestId);
      if (shown === undefined) {
        process.stderr.write(`portcullis: no payload is logged for request ${requestId} (payload_log off, purged after retention, or never logged)\n`);
        return 1;
      }
      await audited(state, { actor: cliActor(), action: 'payload.show', target: requestId.slice(0, 256), decision: 'allowed', reason: null, requestId: null, metadata: { tenant: shown.tenantId } });
      if (values.json) process.stdout.write(`${shown.text}\n`);
      else process.stdout.write(`Request ${requestId} (tenant ${shown.tenantId}, ${shown.createdAt}):\n${pretty(shown.text)}\n`);
      return 0;
    } catch (err) {
      if (isCryptoError(err)) {
        const why = err.reason === 'shredded' ? 'the tenant was crypto-shredded; this payload cannot be recovered' : `it cannot be decrypted (${err.reason}): ${err.message}`;
        process.stderr.write(`portcullis: payload of request ${requestId}: ${why}\n`);
        return 1;
      }
      throw err;
    }
  });
}

/** Indented JSON when the stored text parses (a configured redaction may have broken it: then as stored). */
function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
