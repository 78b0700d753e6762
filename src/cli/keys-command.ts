/**
 * `portcullis keys`: virtual API keys on the command line. The store and the hashing secret
 * come from the config file (or, without one, the demo's data folder).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AuditLog } from '../audit/audit-log.ts';
import { cliActor, keyCreatedEntry, keyRevokedEntry } from '../audit/key-events.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import { loadConfig } from '../config/load.ts';
import { defaultAuditConfig } from '../config/read-audit.ts';
import type { AuditConfig, SecurityConfig, StoreConfig } from '../config/types.ts';
import { createApiKey } from '../identity/api-keys.ts';
import { resolveKeyHashSecret } from '../identity/key-secret.ts';
import { openStore } from '../store/open.ts';
import type { ApiKeyRecord } from '../store/store.ts';
import { parseCommandArgs } from './args.ts';
import { UsageError } from './usage-error.ts';

export const KEYS_HELP = `Usage: portcullis keys <create|list|revoke> [options]

  keys create --label NAME [--models PATTERNS] [--tenant ID] [--expires-in DURATION]
      Creates a key and prints it once. PATTERNS is a comma-separated list of model names,
      '*' allowed as a wildcard (default: *). DURATION like 30d, 12h, 90m.
  keys list [--tenant ID]
      Lists keys (prefix, label, scope, expiry, revocation, last use). Never prints a key.
  keys revoke ID
      Revokes a key at once.

Common options:
  --config FILE     Config file whose store and secret to use (default: $PORTCULLIS_CONFIG,
                    ./portcullis.yaml, or the demo's ./data folder)
  --data-dir DIR    Without a config file: the demo's state folder (default ./data)
  --json            Machine-readable output
`;

const DURATION = /^(\d{1,6})([dhm])$/;
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

export async function runKeys(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    config: { type: 'string' }, 'data-dir': { type: 'string' }, label: { type: 'string' }, models: { type: 'string' },
    tenant: { type: 'string' }, 'expires-in': { type: 'string' }, json: { type: 'boolean' },
  }, KEYS_HELP, true);
  if (values.help) {
    process.stdout.write(KEYS_HELP);
    return 0;
  }
  const [sub, ...args] = positionals;
  const { storeCfg, security, audit: auditCfg } = resolveState(values.config, values['data-dir']);
  const store = await openStore(storeCfg);
  let audit: AuditLog | undefined;
  try {
    // Key changes are audited; opened first so a broken audit log stops the change before it happens.
    if (sub === 'create' || sub === 'revoke') audit = await openConfiguredAuditLog(auditCfg, security.dataDir);
    switch (sub) {
      case 'create': {
        if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
        const label = values.label?.trim();
        if (!label || label.length > 200) throw new UsageError('--label is required (1-200 characters)');
        const models = (values.models ?? '*').split(',').map((m) => m.trim()).filter((m) => m.length > 0);
        if (models.length === 0) throw new UsageError('--models must name at least one model pattern');
        let expiresAt: string | undefined;
        if (values['expires-in'] !== undefined) {
          const m = DURATION.exec(values['expires-in']);
          if (!m || Number(m[1]) === 0) throw new UsageError('--expires-in must look like 30d, 12h or 90m');
          expiresAt = new Date(Date.now() + Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]).toISOString();
        }
        const secret = resolveKeyHashSecret(security);
        const { key, record } = await createApiKey(store, secret, {
          tenantId: values.tenant ?? 'default', label, allowedModels: models, ...(expiresAt ? { expiresAt } : {}),
        });
        try {
          await audit!.append(keyCreatedEntry(record, cliActor()));
        } catch (err) {
          // Fail closed: a key the audit log does not show is revoked before anyone sees it.
          await store.revokeApiKey(record.id, new Date().toISOString());
          process.stderr.write(`portcullis: the key was not created: the audit record could not be written (${(err as Error).message})\n`);
          return 1;
        }
        if (values.json) process.stdout.write(`${JSON.stringify({ key, ...publicView(record) })}\n`);
        else process.stdout.write(`Created key ${record.id} (${record.prefix}…, models: ${models.join(', ')}${expiresAt ? `, expires ${expiresAt}` : ''}).\nStore it now; it cannot be shown again:\n\n  ${key}\n\n`);
        return 0;
      }
      case 'list': {
        if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
        const keys = await store.listApiKeys(values.tenant ? { tenantId: values.tenant } : {});
        if (values.json) {
          process.stdout.write(`${JSON.stringify(keys.map(publicView))}\n`);
          return 0;
        }
        if (keys.length === 0) process.stdout.write('No keys.\n');
        for (const k of keys) {
          const state = k.revokedAt ? `revoked ${k.revokedAt}` : k.expiresAt && k.expiresAt <= new Date().toISOString() ? `expired ${k.expiresAt}` : 'active';
          process.stdout.write(`${k.id}  ${k.prefix}…  ${JSON.stringify(k.label)}  tenant=${k.tenantId}  models=${k.allowedModels.join(',')}  ${state}  last-used=${k.lastUsedAt ?? 'never'}\n`);
        }
        return 0;
      }
      case 'revoke': {
        const [id, ...extra] = args;
        if (!id || extra.length > 0) throw new UsageError('usage: portcullis keys revoke ID');
        const done = await store.revokeApiKey(id, new Date().toISOString());
        if (!done) {
          process.stderr.write(`portcullis: no active key with id ${id}\n`);
          return 1;
        }
        try {
          await audit!.append(keyRevokedEntry(id, cliActor()));
        } catch (err) {
          process.stderr.write(`portcullis: ${id} is revoked, but the audit record could not be written (${(err as Error).message})\n`);
          return 1;
        }
        process.stdout.write(`Revoked ${id}.\n`);
        return 0;
      }
      default:
        throw new UsageError(`expected create, list or revoke\n\n${KEYS_HELP}`);
    }
  } finally {
    await audit?.close();
    await store.close();
  }
}

function publicView(k: ApiKeyRecord) {
  const { hash: _hash, ...rest } = k;
  return rest;
}

function resolveState(configFlag: string | undefined, dataDirFlag: string | undefined): { storeCfg: StoreConfig; security: SecurityConfig; audit: AuditConfig } {
  const configPath = configFlag ?? process.env.PORTCULLIS_CONFIG ?? (existsSync('portcullis.yaml') && dataDirFlag === undefined ? 'portcullis.yaml' : undefined);
  if (configPath !== undefined) {
    if (dataDirFlag !== undefined) throw new UsageError('use either --config or --data-dir, not both');
    const cfg = loadConfig(configPath);
    return { storeCfg: cfg.store, security: cfg.security, audit: cfg.audit };
  }
  const dataDir = resolve(dataDirFlag ?? 'data');
  return { storeCfg: { driver: 'sqlite', path: join(dataDir, 'portcullis.db') }, security: { dataDir, keyHashSecret: undefined }, audit: defaultAuditConfig(dataDir) };
}
