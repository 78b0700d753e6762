/**
 * `portcullis oauth`: clients of the built-in authorization server and its signing keys. Needs
 * a config file with `oauth_server` enabled (its store, key-hash secret and master key are the
 * gateway's). Client creation, revocation and key rotation are written to the audit log first.
 */
import { readFileSync } from 'node:fs';
import type { AuditLog } from '../audit/audit-log.ts';
import { cliActor } from '../audit/key-events.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import type { AuditEntry } from '../audit/types.ts';
import { loadConfig } from '../config/load.ts';
import type { GatewayConfig } from '../config/types.ts';
import type { Envelope } from '../crypto/envelope.ts';
import { closeEnvelope, openEnvelope } from '../crypto/open.ts';
import { resolveKeyHashSecret } from '../identity/key-secret.ts';
import { createOAuthClient, OAuthClientInputError } from '../identity/oauth/clients.ts';
import { overlapMs, rotateSigningKey } from '../identity/oauth/signing-keys.ts';
import { createLogger } from '../observability/logger.ts';
import {
  OAUTH_CLIENT_AUTH_METHODS,
  type OAuthClientAuthMethod,
  type OAuthClientRecord,
} from '../store/oauth-records.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { parseCommandArgs } from './args.ts';
import { UsageError } from './usage-error.ts';

export const OAUTH_HELP = `Usage: portcullis oauth <clients|rotate-signing-key|signing-keys> … [options]

  oauth clients create --name NAME [--tenant ID] [--team ID] [--scopes S1,S2] [--models PATTERNS]
                       [--auth-method client_secret_basic|client_secret_post|private_key_jwt]
                       [--jwks-file FILE]
      Registers a machine client and prints its client_id and, for the secret methods, its
      client_secret ONCE (only a keyed hash is stored). private_key_jwt needs --jwks-file: the
      client's PUBLIC keys as a JWKS. Default auth method client_secret_basic, models *, no scopes.
  oauth clients list [--tenant ID]
      Lists clients (never a secret).
  oauth clients revoke CLIENT_ID
      Revokes a client at once: no new tokens, and its outstanding tokens are refused.
  oauth rotate-signing-key
      Makes a new current signing key. The previous ones stay in the JWKS until every token
      they signed has expired (token_ttl_s + clock_skew_s + key_refresh_interval_s), then are
      retired and their private keys erased. Running gateways pick it up within
      key_refresh_interval_s.
  oauth signing-keys
      Lists the signing keys still published (kid, algorithm, state).

Common options:
  --config FILE     Config file with oauth_server enabled (default: $PORTCULLIS_CONFIG or ./portcullis.yaml)
  --json            Machine-readable output
`;

export async function runOAuth(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      name: { type: 'string' },
      tenant: { type: 'string' },
      team: { type: 'string' },
      scopes: { type: 'string' },
      models: { type: 'string' },
      'auth-method': { type: 'string' },
      'jwks-file': { type: 'string' },
      json: { type: 'boolean' },
    },
    OAUTH_HELP,
    true,
  );
  if (values.help) {
    process.stdout.write(OAUTH_HELP);
    return 0;
  }
  const [group, sub, ...args] = positionals;
  const action = group === 'clients' ? `clients ${sub ?? ''}` : group;
  if (
    !['clients create', 'clients list', 'clients revoke', 'rotate-signing-key', 'signing-keys'].includes(action ?? '')
  ) {
    throw new UsageError(`expected clients create|list|revoke, rotate-signing-key or signing-keys\n\n${OAUTH_HELP}`);
  }
  const rest = group === 'clients' ? args : [sub, ...args].filter((a) => a !== undefined);
  const configPath = values.config ?? process.env.PORTCULLIS_CONFIG ?? 'portcullis.yaml';
  const config = loadConfig(configPath);
  if (config.oauthServer === undefined) throw new UsageError(`oauth_server is not enabled in ${configPath}`);
  const store = await openStore(config.store);
  let audit: AuditLog | undefined;
  let opened: Envelope | undefined;
  try {
    if (action !== 'clients list' && action !== 'signing-keys')
      audit = await openConfiguredAuditLog(config.audit, config.security.dataDir);
    switch (action) {
      case 'clients create':
        return await createClient(config, store, audit!, values, rest);
      case 'clients list': {
        noArgs(rest);
        const clients = await store.listOAuthClients(values.tenant !== undefined ? { tenantId: values.tenant } : {});
        if (values.json) process.stdout.write(`${JSON.stringify(clients.map(publicView))}\n`);
        else if (clients.length === 0) process.stdout.write('No OAuth clients.\n');
        else
          for (const c of clients) {
            process.stdout.write(
              `${c.clientId}  ${JSON.stringify(c.name)}  tenant=${c.tenantId}${c.teamId !== null ? `  team=${c.teamId}` : ''}  auth=${c.authMethod}  scopes=${c.scopes.join(' ') || '-'}  models=${c.allowedModels.join(',')}  ${c.revokedAt !== null ? `revoked ${c.revokedAt}` : 'active'}\n`,
            );
          }
        return 0;
      }
      case 'clients revoke': {
        const [id, ...extra] = rest;
        if (id === undefined || extra.length > 0)
          throw new UsageError('usage: portcullis oauth clients revoke CLIENT_ID');
        if (!(await store.revokeOAuthClient(id, new Date().toISOString()))) {
          process.stderr.write(`portcullis: no active OAuth client with id ${id}\n`);
          return 1;
        }
        if (!(await appendAudit(audit!, entry('oauth_client.revoke', id, {})))) {
          process.stderr.write(`portcullis: ${id} is revoked, but the audit record could not be written\n`);
          return 1;
        }
        process.stdout.write(`Revoked ${id}; its tokens are refused from now on.\n`);
        return 0;
      }
      case 'rotate-signing-key': {
        noArgs(rest);
        const cfg = config.oauthServer;
        // Warnings (e.g. a generated master key) go to stderr, so --json output stays parseable.
        const log = createLogger({
          level: 'warn',
          destination: process.stderr as unknown as Parameters<typeof createLogger>[0]['destination'],
        });
        const envelope = await openEnvelope(config.security, store, log);
        opened = envelope;
        const r = await rotateSigningKey(store, envelope, cfg.signingAlgorithm, overlapMs(cfg));
        const ok = await appendAudit(
          audit!,
          entry('oauth.signing_key_rotate', r.kid, { superseded: r.superseded, retire_after: r.retireAfter }),
        );
        if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
        else
          process.stdout.write(
            `New signing key ${r.kid} (${cfg.signingAlgorithm}). ${r.superseded} previous key(s) stay published until ${r.retireAfter}; ${r.retired} retired now.\n`,
          );
        if (!ok) process.stderr.write('portcullis: the key was rotated, but the audit record could not be written\n');
        return ok ? 0 : 1;
      }
      default: {
        noArgs(rest);
        const keys = await store.listOAuthSigningKeys();
        const view = keys.map((k) => ({
          kid: k.kid,
          alg: k.alg,
          createdAt: k.createdAt,
          state: k.supersededAt === null ? 'current' : 'overlap',
          retireAfter: k.retireAfter,
        }));
        if (values.json) process.stdout.write(`${JSON.stringify(view)}\n`);
        else if (view.length === 0)
          process.stdout.write('No signing keys yet (the gateway makes one at its first start).\n');
        else
          for (const k of view)
            process.stdout.write(
              `${k.kid}  ${k.alg}  created ${k.createdAt}  ${k.state}${k.retireAfter !== null ? ` until ${k.retireAfter}` : ''}\n`,
            );
        return 0;
      }
    }
  } finally {
    await audit?.close();
    await closeEnvelope(opened);
    await store.close();
  }
}

interface CreateFlags {
  readonly name?: string | undefined;
  readonly tenant?: string | undefined;
  readonly team?: string | undefined;
  readonly scopes?: string | undefined;
  readonly models?: string | undefined;
  readonly 'auth-method'?: string | undefined;
  readonly 'jwks-file'?: string | undefined;
  readonly json?: boolean | undefined;
}

async function createClient(
  config: GatewayConfig,
  store: Store,
  audit: AuditLog,
  values: CreateFlags,
  rest: unknown[],
): Promise<number> {
  noArgs(rest);
  const name = values.name?.trim();
  if (!name) throw new UsageError('--name is required');
  const authMethod = (values['auth-method'] ?? 'client_secret_basic') as OAuthClientAuthMethod;
  if (!OAUTH_CLIENT_AUTH_METHODS.includes(authMethod))
    throw new UsageError(`--auth-method must be one of ${OAUTH_CLIENT_AUTH_METHODS.join(', ')}`);
  let jwks: string | undefined;
  if (values['jwks-file'] !== undefined) {
    try {
      jwks = readFileSync(values['jwks-file'], 'utf8');
    } catch (err) {
      throw new UsageError(
        `cannot read --jwks-file ${values['jwks-file']} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  const list = (s: string | undefined, fallback: string[]): string[] =>
    s === undefined
      ? fallback
      : s
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== '');
  let created: Awaited<ReturnType<typeof createOAuthClient>>;
  try {
    created = await createOAuthClient(store, resolveKeyHashSecret(config.security), {
      tenantId: values.tenant ?? 'default',
      teamId: values.team ?? null,
      name,
      authMethod,
      scopes: list(values.scopes, []),
      allowedModels: list(values.models, ['*']),
      ...(jwks !== undefined ? { jwks } : {}),
    });
  } catch (err) {
    if (err instanceof OAuthClientInputError) throw new UsageError(err.message);
    throw err;
  }
  const { record, clientSecret } = created;
  if (
    !(await appendAudit(
      audit,
      entry('oauth_client.create', record.clientId, {
        tenant: record.tenantId,
        auth_method: record.authMethod,
        scopes: record.scopes.join(' ').slice(0, 500),
        models: record.allowedModels.join(',').slice(0, 500),
      }),
    ))
  ) {
    // Fail closed, as for API keys: a client the audit log does not show is revoked before anyone sees its secret.
    await store.revokeOAuthClient(record.clientId, new Date().toISOString());
    process.stderr.write('portcullis: the client was not created: the audit record could not be written\n');
    return 1;
  }
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ ...publicView(record), ...(clientSecret !== undefined ? { client_secret: clientSecret } : {}) })}\n`,
    );
  } else {
    process.stdout.write(
      `Created OAuth client ${record.clientId} (${record.authMethod}, tenant ${record.tenantId}).\n`,
    );
    if (clientSecret !== undefined)
      process.stdout.write(
        `Store the secret now; it cannot be shown again:\n\n  client_id:     ${record.clientId}\n  client_secret: ${clientSecret}\n\n`,
      );
    process.stdout.write(`Token endpoint: ${config.oauthServer!.issuer}/oauth/token\n`);
  }
  return 0;
}

function noArgs(rest: unknown[]): void {
  if (rest.length > 0) throw new UsageError(`unexpected argument "${String(rest[0])}"`);
}

function publicView(c: OAuthClientRecord) {
  const { secretHash: _hash, jwks, ...rest } = c;
  return { ...rest, client_id: c.clientId, hasJwks: jwks !== null };
}

function entry(action: string, target: string, metadata: Record<string, string | number | null>): AuditEntry {
  return {
    actor: cliActor(),
    action,
    target: target.slice(0, 256),
    decision: 'allowed',
    reason: null,
    requestId: null,
    metadata,
  };
}

async function appendAudit(audit: AuditLog, e: AuditEntry): Promise<boolean> {
  try {
    await audit.append(e);
    return true;
  } catch {
    return false;
  }
}
