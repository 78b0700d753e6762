/**
 * `portcullis tenants shred|delete`: erasing a tenant. `shred` destroys its data keys and its
 * shred key in the tenant key vault (crypto-shredding, ../crypto/shred.ts); `delete` suspends
 * the tenant, revokes its API keys and then shreds it. Both are audited before they act,
 * idempotent, and broadcast over Redis so running gateways drop what they cached.
 */
import { cliActor, keyRevokedEntry } from '../audit/key-events.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import { type ShredResult, shredTenant } from '../crypto/shred.ts';
import { publishKeyRevocation, publishTenantShred } from '../identity/revocation-broadcast.ts';
import { parseCommandArgs } from './args.ts';
import { audited, COMMON, resolveState, type State, withEnvelope } from './encryption-command.ts';
import { UsageError } from './usage-error.ts';

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

export async function runTenants(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      yes: { type: 'boolean' },
    },
    TENANTS_HELP,
    true,
  );
  if (values.help) {
    process.stdout.write(TENANTS_HELP);
    return 0;
  }
  const [sub, tenant, ...extra] = positionals;
  if (sub !== 'shred' && sub !== 'delete') throw new UsageError(`expected shred or delete\n\n${TENANTS_HELP}`);
  if (!tenant || extra.length > 0) throw new UsageError(`usage: portcullis tenants ${sub} TENANT --yes`);
  if (!values.yes) {
    throw new UsageError(
      sub === 'shred'
        ? `shredding destroys every encrypted value of tenant ${tenant} for good; add --yes to confirm`
        : `deleting suspends tenant ${tenant}, revokes all of its keys and destroys every encrypted value of it for good; add --yes to confirm`,
    );
  }
  const state = resolveState(values.config, values['data-dir']);
  if (sub === 'delete') return deleteTenant(state, tenant);
  return withEnvelope(state, async (_store, envelope) => {
    // Audited first: a shred the log does not show must not happen.
    await audited(state, {
      actor: cliActor(),
      action: 'crypto.shred_tenant',
      target: tenant.slice(0, 256),
      decision: 'allowed',
      reason: null,
      requestId: null,
    });
    const r = await shredTenant(envelope.dataKeys, tenant);
    process.stdout.write(
      `Shredded tenant ${tenant}: ${r.keysDestroyed} data key(s) destroyed; its encrypted data can no longer be read.\n`,
    );
    await reportShred(state, r);
    return 0;
  });
}

/** What the shred did to backups, and the broadcast that makes running gateways drop the keys now. */
async function reportShred(state: State, r: ShredResult): Promise<void> {
  const told = await publishTenantShred(state.redis, r.tenantId);
  process.stdout.write(
    told === undefined
      ? 'Running gateways drop their cached copy of these keys within a minute (the key cache TTL) or on restart.\n'
      : `Running gateways were told to drop their cached copy of these keys now (${told} subscriber(s)); any that missed it do within a minute.\n`,
  );
  if (r.vault === 'none') {
    process.stdout.write(
      'No tenant key vault is configured (security.tenant_keys): backups taken before now still hold the wrapped keys; rotate the master key (keys rotate-master) and destroy the old one to make the shred final for them.\n',
    );
  } else {
    process.stdout.write(
      r.vaultKeyDestroyed
        ? `Tenant shred key destroyed in the ${r.vault} tenant key vault: database backups taken before now cannot read this tenant's data either (a copy of the vault taken before now still could, for as long as it is kept).\n`
        : `No tenant shred key was left in the ${r.vault} tenant key vault (already destroyed): database backups taken before the first shred cannot read this tenant's data.\n`,
    );
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
      process.stderr.write(
        `portcullis: no tenant with id ${JSON.stringify(tenant.slice(0, 80))} (see "portcullis tenants list"; "tenants shred" destroys the data keys of an id without a tenant record)\n`,
      );
      return 1;
    }
    const audit = await openConfiguredAuditLog(state.audit, state.security.dataDir);
    try {
      const actor = cliActor();
      // Audited first: a deletion the log does not show must not happen.
      await audit.append({
        actor,
        action: 'tenant.delete',
        target: tenant,
        decision: 'allowed',
        reason: null,
        requestId: null,
        metadata: { tenant, old_status: before.status },
      });
      if (before.status !== 'suspended') {
        await audit.append({
          actor,
          action: 'tenant.suspend',
          target: tenant,
          decision: 'allowed',
          reason: null,
          requestId: null,
          metadata: { tenant, old_status: before.status, status: 'suspended' },
        });
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
      await audit.append({
        actor,
        action: 'crypto.shred_tenant',
        target: tenant,
        decision: 'allowed',
        reason: null,
        requestId: null,
      });
      const r = await shredTenant(envelope.dataKeys, tenant);
      process.stdout.write(
        `Deleted tenant ${tenant}: suspended, ${revoked} API key(s) revoked, ${r.keysDestroyed} data key(s) destroyed; its encrypted data can no longer be read.\n`,
      );
      if (unannounced > 0)
        process.stderr.write(
          `portcullis: warning: ${unannounced} revocation(s) could not be broadcast over Redis; gateways refuse those keys once their key cache expires (1 s) and the suspension within about a second\n`,
        );
      await reportShred(state, r);
      return 0;
    } finally {
      await audit.close();
    }
  });
}
