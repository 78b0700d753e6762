/**
 * `portcullis keys`: virtual API keys on the command line. The store and the hashing secret
 * come from the config file (or, without one, the demo's data folder).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AuditLog } from '../audit/audit-log.ts';
import { defaultAuditConfig } from '../audit/config.ts';
import type { AuditConfig } from '../audit/config-types.ts';
import { cliActor, keyCreatedEntry, keyRevokedEntry, keyRotatedEntry } from '../audit/key-events.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import { parseDurationS } from '../config/duration.ts';
import { loadConfig } from '../config/load.ts';
import type { SecurityConfig } from '../crypto/config-types.ts';
import { createApiKey } from '../identity/api-keys.ts';
import { KeyRotationError, MAX_GRACE_SECONDS, rotateApiKey } from '../identity/key-rotation.ts';
import { resolveKeyHashSecret } from '../identity/key-secret.ts';
import { publishKeyRevocation } from '../identity/revocation-broadcast.ts';
import type { RedisLimitsConfig } from '../limits/config-types.ts';
import type { StoreConfig } from '../store/config-types.ts';
import { openStore } from '../store/open.ts';
import type { ApiKeyRecord } from '../store/store.ts';
import { parseCommandArgs } from './args.ts';
import { runKeyRotation } from './encryption-command.ts';
import {
  certBindingFlag,
  cliCreator,
  describeScope,
  formatKeyTable,
  keyPolicyFlags,
  parseExpires,
} from './key-flags.ts';
import { UsageError } from './usage-error.ts';

export const KEYS_HELP = `Usage: portcullis keys <create|list|rotate|revoke> [options]

  keys create --label NAME [--models PATTERNS] [--tenant ID] [--expires WHEN]
              [--ip CIDRS] [--endpoints LIST] [--read-only] [--cert-sha256 FINGERPRINT]
      Creates a key and prints it once. PATTERNS is a comma-separated list of model names,
      '*' allowed as a wildcard (default: *).
      --expires WHEN   a duration from now (30d, 12h, 90m) or an ISO-8601 time
                       (--expires-in DURATION is the older spelling)
      --ip CIDRS       comma-separated IPv4/IPv6 addresses or CIDRs the key may be used
                       from (repeatable); default: anywhere
      --endpoints LIST comma-separated: chat, embeddings, models, messages (Anthropic);
                       default: all
      --read-only      the models listing only
      --cert-sha256 FP bind the key to one mutual-TLS client certificate: it is accepted
                       only over HTTPS connections presenting that verified certificate
                       (SHA-256 fingerprint, AB:CD:… or 64 hex digits; needs
                       server.tls.client_auth). Kept across rotation.
  keys list [--tenant ID]
      Lists keys: id, prefix, label, state (active/expired/revoked), scopes (models,
      endpoints, read-only, IP allowlist), expiry, last use. Never prints a key.
  keys rotate ID [--grace DURATION]
      Issues a new key with the same settings and prints it once; the old key keeps
      working for the grace period (default 24h, 0 ends it now, at most 30d) and is
      refused as expired afterwards.
  keys revoke ID
      Revokes a key at once. With a shared Redis in the config, running gateways are told
      over pub/sub and drop the key from their caches immediately.
  keys rotate-master | keys rotate-data --tenant T
      Encryption at rest: re-wrap data keys under a new master key / give a tenant a new data
      key. See: portcullis keys rotate-master --help

Common options:
  --config FILE     Config file whose store and secret to use (default: $PORTCULLIS_CONFIG,
                    ./portcullis.yaml, or the demo's ./data folder)
  --data-dir DIR    Without a config file: the demo's state folder (default ./data)
  --json            Machine-readable output
`;

const DURATION = /^(\d{1,6})([dhm])$/;
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

export async function runKeys(argv: string[]): Promise<number> {
  // Master/data key rotation has its own options (encryption-command.ts).
  if (argv[0] === 'rotate-master' || argv[0] === 'rotate-data') return runKeyRotation(argv);
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      label: { type: 'string' },
      models: { type: 'string' },
      tenant: { type: 'string' },
      'expires-in': { type: 'string' },
      json: { type: 'boolean' },
      expires: { type: 'string' },
      ip: { type: 'string', multiple: true },
      endpoints: { type: 'string' },
      'read-only': { type: 'boolean' },
      grace: { type: 'string' },
      'cert-sha256': { type: 'string' },
    },
    KEYS_HELP,
    true,
  );
  if (values.help) {
    process.stdout.write(KEYS_HELP);
    return 0;
  }
  const [sub, ...args] = positionals;
  const { storeCfg, security, audit: auditCfg, redis: redisCfg } = resolveState(values.config, values['data-dir']);
  const store = await openStore(storeCfg);
  let audit: AuditLog | undefined;
  try {
    // Key changes are audited; opened first so a broken audit log stops the change before it happens.
    if (sub === 'create' || sub === 'revoke' || sub === 'rotate')
      audit = await openConfiguredAuditLog(auditCfg, security.dataDir);
    switch (sub) {
      case 'create': {
        if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
        const label = values.label?.trim();
        if (!label || label.length > 200) throw new UsageError('--label is required (1-200 characters)');
        const models = (values.models ?? '*')
          .split(',')
          .map((m) => m.trim())
          .filter((m) => m.length > 0);
        if (models.length === 0) throw new UsageError('--models must name at least one model pattern');
        let expiresAt: string | undefined;
        if (values['expires-in'] !== undefined && values.expires !== undefined)
          throw new UsageError('use either --expires or --expires-in, not both');
        if (values['expires-in'] !== undefined) {
          const m = DURATION.exec(values['expires-in']);
          if (!m || Number(m[1]) === 0) throw new UsageError('--expires-in must look like 30d, 12h or 90m');
          expiresAt = new Date(Date.now() + Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]).toISOString();
        }
        if (values.expires !== undefined) expiresAt = parseExpires(values.expires);
        const policy = keyPolicyFlags(values.ip, values.endpoints, values['read-only']);
        const certBinding = certBindingFlag(values['cert-sha256']);
        const secret = resolveKeyHashSecret(security);
        const { key, record } = await createApiKey(store, secret, {
          tenantId: values.tenant ?? 'default',
          label,
          allowedModels: models,
          ...(expiresAt ? { expiresAt } : {}),
          ...policy,
          ...certBinding,
          createdBy: cliCreator(),
        });
        try {
          await audit!.append(keyCreatedEntry(record, cliActor()));
        } catch (err) {
          // Fail closed: a key the audit log does not show is revoked before anyone sees it.
          await store.revokeApiKey(record.id, new Date().toISOString());
          process.stderr.write(
            `portcullis: the key was not created: the audit record could not be written (${(err as Error).message})\n`,
          );
          return 1;
        }
        if (values.json) process.stdout.write(`${JSON.stringify({ key, ...publicView(record) })}\n`);
        else
          process.stdout.write(
            `Created key ${record.id} (${record.prefix}…, ${describeScope(record)}${expiresAt ? `, expires ${record.expiresAt}` : ''}).\nStore it now; it cannot be shown again:\n\n  ${key}\n\n`,
          );
        return 0;
      }
      case 'rotate': {
        const [id, ...extra] = args;
        if (!id || extra.length > 0) throw new UsageError('usage: portcullis keys rotate ID [--grace DURATION]');
        const graceSeconds = parseDurationS(values.grace ?? '24h');
        if (graceSeconds === undefined || graceSeconds > MAX_GRACE_SECONDS)
          throw new UsageError('--grace must be a duration from 0s to 30d, e.g. 24h, 90m, 0');
        const secret = resolveKeyHashSecret(security);
        let rotated: Awaited<ReturnType<typeof rotateApiKey>>;
        try {
          rotated = await rotateApiKey(store, secret, id, { graceSeconds, createdBy: cliCreator() });
        } catch (err) {
          if (!(err instanceof KeyRotationError)) throw err;
          process.stderr.write(`portcullis: ${err.message}\n`);
          return 1;
        }
        const { key, record, old } = rotated;
        try {
          await audit!.append(keyCreatedEntry(record, cliActor()));
          await audit!.append(keyRotatedEntry(old, record, cliActor()));
        } catch (err) {
          // Fail closed, as for create: the unaudited new key is revoked; the old one keeps its grace.
          await store.revokeApiKey(record.id, new Date().toISOString());
          process.stderr.write(
            `portcullis: the rotation was undone: the audit record could not be written (${(err as Error).message}); ${id} now expires at ${old.expiresAt}\n`,
          );
          return 1;
        }
        if (values.json)
          process.stdout.write(`${JSON.stringify({ key, ...publicView(record), replaces: publicView(old) })}\n`);
        else
          process.stdout.write(
            `Rotated ${old.id}: new key ${record.id} (${record.prefix}…, same settings). The old key works until ${old.expiresAt}.\nStore the new key now; it cannot be shown again:\n\n  ${key}\n\n`,
          );
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
        else process.stdout.write(formatKeyTable(keys, new Date()));
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
        // Running gateways drop the key from their caches at once (not after the 1 s cache TTL).
        if (redisCfg !== undefined && (await publishKeyRevocation(redisCfg, id)) === undefined) {
          process.stderr.write(
            'portcullis: warning: could not broadcast the revocation over Redis; gateways refuse the key once their key cache expires (1 s)\n',
          );
        }
        try {
          await audit!.append(keyRevokedEntry(id, cliActor()));
        } catch (err) {
          process.stderr.write(
            `portcullis: ${id} is revoked, but the audit record could not be written (${(err as Error).message})\n`,
          );
          return 1;
        }
        process.stdout.write(`Revoked ${id}.\n`);
        return 0;
      }
      default:
        throw new UsageError(`expected create, list, rotate or revoke\n\n${KEYS_HELP}`);
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

export function resolveState(
  configFlag: string | undefined,
  dataDirFlag: string | undefined,
): { storeCfg: StoreConfig; security: SecurityConfig; audit: AuditConfig; redis?: RedisLimitsConfig } {
  const configPath =
    configFlag ??
    process.env.PORTCULLIS_CONFIG ??
    (existsSync('portcullis.yaml') && dataDirFlag === undefined ? 'portcullis.yaml' : undefined);
  if (configPath !== undefined) {
    if (dataDirFlag !== undefined) throw new UsageError('use either --config or --data-dir, not both');
    const cfg = loadConfig(configPath);
    return {
      storeCfg: cfg.store,
      security: cfg.security,
      audit: cfg.audit,
      ...(cfg.redis === undefined ? {} : { redis: cfg.redis }),
    };
  }
  const dataDir = resolve(dataDirFlag ?? 'data');
  return {
    storeCfg: { driver: 'sqlite', path: join(dataDir, 'portcullis.db') },
    security: { dataDir, keyHashSecret: undefined },
    audit: defaultAuditConfig(dataDir),
  };
}
