/**
 * Operator commands for encryption at rest: `keys rotate-master`, `keys rotate-data` and
 * `payloads show` (and, for tenant-erasure-command.ts, how they all open state). They open the
 * configured store and envelope exactly as the gateway does (src/crypto/open.ts), so a wrong
 * master key stops them before they touch anything. Rotation is audited.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultAuditConfig } from '../audit/config.ts';
import type { AuditConfig } from '../audit/config-types.ts';
import { cliActor } from '../audit/key-events.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import type { AuditEntry } from '../audit/types.ts';
import { loadConfig } from '../config/load.ts';
import type { SecurityConfig } from '../crypto/config-types.ts';
import { isCryptoError } from '../crypto/crypto-error.ts';
import type { Envelope } from '../crypto/envelope.ts';
import { masterKeyFromValue } from '../crypto/kek/master-key.ts';
import { closeEnvelope, openEnvelope } from '../crypto/open.ts';
import { type EncryptedItem, reencrypt, rotateMasterKey } from '../crypto/rotation.ts';
import type { RedisLimitsConfig } from '../limits/config-types.ts';
import { createLogger, type Logger } from '../observability/logger.ts';
import { PAYLOAD_LOG_DEFAULTS } from '../payload-log/config.ts';
import type { PayloadLogConfig } from '../payload-log/config-types.ts';
import { createPayloadLog, payloadBinding } from '../payload-log/payload-log.ts';
import type { StoreConfig } from '../store/config-types.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { parseCommandArgs } from './args.ts';
import { createProgress } from './progress.ts';
import { UsageError } from './usage-error.ts';

export const COMMON = `Common options:
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

export const PAYLOADS_HELP = `Usage: portcullis payloads show REQUEST_ID [options]

  payloads show REQUEST_ID [--json]
      Decrypts and prints the logged (redacted) request and response bodies of one request.

${COMMON}`;

export interface State {
  readonly redis?: RedisLimitsConfig;
  readonly store: StoreConfig;
  readonly security: SecurityConfig;
  readonly audit: AuditConfig;
  readonly payloadLog: PayloadLogConfig;
  readonly logLevel: 'warn' | 'error' | 'info';
}

export function resolveState(configFlag: string | undefined, dataDirFlag: string | undefined): State {
  const configPath =
    configFlag ??
    process.env.PORTCULLIS_CONFIG ??
    (existsSync('portcullis.yaml') && dataDirFlag === undefined ? 'portcullis.yaml' : undefined);
  if (configPath !== undefined) {
    if (dataDirFlag !== undefined) throw new UsageError('use either --config or --data-dir, not both');
    const cfg = loadConfig(configPath);
    return {
      store: cfg.store,
      security: cfg.security,
      audit: cfg.audit,
      payloadLog: cfg.payloadLog ?? PAYLOAD_LOG_DEFAULTS,
      logLevel: 'warn',
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
  return createLogger({
    level: 'warn',
    destination: process.stderr as unknown as Parameters<typeof createLogger>[0]['destination'],
  });
}

export async function withEnvelope<T>(state: State, fn: (store: Store, envelope: Envelope) => Promise<T>): Promise<T> {
  const store = await openStore(state.store);
  let opened: Envelope | undefined;
  try {
    const envelope = await openEnvelope(state.security, store, cliLogger());
    opened = envelope;
    return await fn(store, envelope);
  } finally {
    await closeEnvelope(opened);
    await store.close();
  }
}

export async function audited(state: State, entry: AuditEntry): Promise<void> {
  const audit = await openConfiguredAuditLog(state.audit, state.security.dataDir);
  try {
    await audit.append(entry);
  } finally {
    await audit.close();
  }
}

function batchSize(value: string | undefined): number {
  if (value === undefined) return 100;
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 10_000)
    throw new UsageError('--batch-size must be an integer from 1 to 10000');
  return Number(value);
}

export async function runKeyRotation(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      tenant: { type: 'string' },
      'batch-size': { type: 'string' },
      resume: { type: 'boolean' },
    },
    KEY_ROTATION_HELP,
    true,
  );
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
    process.stderr.write(
      'portcullis: keys rotate-master needs the new key in security.master_key and the old one in security.previous_master_keys (see --help)\n',
    );
    return 2;
  }
  return withEnvelope(state, async (store, envelope) => {
    const target = envelope.dataKeys.keyring.current;
    let total = { rewrapped: 0, skipped: 0, remaining: 0 };
    for (const [i, value] of previous.entries()) {
      const old = masterKeyFromValue(value, `security.previous_master_keys[${i}]`);
      try {
        process.stdout.write(`Re-wrapping data keys from KEK ${old.id} to ${target.id}…\n`);
        const progress = createProgress({ label: 'Re-wrapping data keys', unit: 'keys' });
        const r = await rotateMasterKey(store.dataKeys, old, target, {
          batchSize: size,
          ...(envelope.dataKeys.vault === undefined ? {} : { vault: envelope.dataKeys.vault }),
          onProgress: (p) => progress.update(p.rewrapped + p.skipped, p.total),
        });
        progress.finish();
        total = {
          rewrapped: total.rewrapped + r.rewrapped,
          skipped: total.skipped + r.skipped,
          remaining: total.remaining + r.remaining,
        };
      } finally {
        old.destroy();
      }
    }
    await audited(state, {
      actor: cliActor(),
      action: 'crypto.rotate_master',
      target: target.id,
      decision: 'allowed',
      reason: null,
      requestId: null,
      metadata: { rewrapped: total.rewrapped, skipped: total.skipped, remaining: total.remaining },
    });
    process.stdout.write(
      `Done: re-wrapped ${total.rewrapped}, skipped ${total.skipped}, remaining ${total.remaining}.\n`,
    );
    if (total.remaining > 0) {
      process.stdout.write(
        'Some data keys are still under an old key (an instance still runs with the old master_key as current): update every instance, then rerun.\n',
      );
      return 1;
    }
    process.stdout.write(
      'Every data key is under the new master key: remove security.previous_master_keys from the config, restart, and destroy the old key.\n',
    );
    return 0;
  });
}

async function rotateData(state: State, tenant: string, size: number, resume: boolean): Promise<number> {
  return withEnvelope(state, async (store, envelope) => {
    const current = resume ? await store.dataKeys.getCurrent(tenant) : await envelope.dataKeys.rotate(tenant);
    if (current === undefined) {
      process.stderr.write(
        `portcullis: tenant ${tenant} has no data key (nothing was ever encrypted for it, or it was shredded)\n`,
      );
      return 1;
    }
    process.stdout.write(
      `${resume ? 'Resuming with' : 'New'} data key version ${current.version} of tenant ${tenant}; re-encrypting its payload log…\n`,
    );
    const expected = new Map<string, Buffer>();
    async function* items(): AsyncGenerator<EncryptedItem> {
      let afterId: string | undefined;
      for (;;) {
        const page = await store.payloadLog.listByTenant(
          tenant,
          afterId === undefined ? { limit: size } : { afterId, limit: size },
        );
        if (page.length === 0) return;
        for (const row of page) {
          expected.set(row.requestId, row.ciphertext);
          yield { binding: payloadBinding(row.requestId, row.tenantId), ciphertext: row.ciphertext };
        }
        afterId = page[page.length - 1]!.requestId;
      }
    }
    let lost = 0;
    const progress = createProgress({
      label: 'Re-encrypting payload log rows',
      unit: 'rows',
      total: await store.payloadLog.countByTenant(tenant),
    });
    const result = await reencrypt(envelope, items(), {
      batchSize: size,
      save: async (batch) => {
        for (const item of batch) {
          const before = expected.get(item.binding.row);
          // A row purged or changed meanwhile is left as it is.
          if (
            before === undefined ||
            !(await store.payloadLog.replaceCiphertext(item.binding.row, before, Buffer.from(item.ciphertext)))
          )
            lost++;
          expected.delete(item.binding.row);
        }
      },
      onProgress: (p) => progress.update(p.examined),
    });
    progress.finish();
    await audited(state, {
      actor: cliActor(),
      action: 'crypto.rotate_data_key',
      target: tenant.slice(0, 256),
      decision: 'allowed',
      reason: null,
      requestId: null,
      metadata: {
        data_key_version: current.version,
        resumed: resume,
        reencrypted: result.reencrypted - lost,
        already_current: result.alreadyCurrent,
      },
    });
    process.stdout.write(
      `Done: ${result.reencrypted - lost} row(s) re-encrypted, ${result.alreadyCurrent} already current${lost > 0 ? `, ${lost} changed or purged meanwhile (skipped)` : ''}.\n`,
    );
    return 0;
  });
}

export async function runPayloads(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
    },
    PAYLOADS_HELP,
    true,
  );
  if (values.help) {
    process.stdout.write(PAYLOADS_HELP);
    return 0;
  }
  const [sub, requestId, ...extra] = positionals;
  if (sub !== 'show') throw new UsageError(`expected show\n\n${PAYLOADS_HELP}`);
  if (!requestId || extra.length > 0) throw new UsageError('usage: portcullis payloads show REQUEST_ID');
  const state = resolveState(values.config, values['data-dir']);
  return withEnvelope(state, async (store, envelope) => {
    const payloads = createPayloadLog({
      config: state.payloadLog,
      envelope,
      repository: store.payloadLog,
      log: cliLogger(),
    });
    try {
      const shown = await payloads.show(requestId);
      if (shown === undefined) {
        process.stderr.write(
          `portcullis: no payload is logged for request ${requestId} (payload_log off, purged after retention, or never logged)\n`,
        );
        return 1;
      }
      await audited(state, {
        actor: cliActor(),
        action: 'payload.show',
        target: requestId.slice(0, 256),
        decision: 'allowed',
        reason: null,
        requestId: null,
        metadata: { tenant: shown.tenantId },
      });
      if (values.json) process.stdout.write(`${shown.text}\n`);
      else
        process.stdout.write(
          `Request ${requestId} (tenant ${shown.tenantId}, ${shown.createdAt}):\n${pretty(shown.text)}\n`,
        );
      return 0;
    } catch (err) {
      if (isCryptoError(err)) {
        const why =
          err.reason === 'shredded'
            ? 'the tenant was crypto-shredded; this payload cannot be recovered'
            : `it cannot be decrypted (${err.reason}): ${err.message}`;
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
