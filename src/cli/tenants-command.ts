/**
 * `portcullis tenants`: operators bootstrap tenants here (the admin API lets a tenant's owners
 * read and rename their own tenant, never create or list tenants). `tenants shred` and
 * `tenants delete` erase data (tenant-erasure-command.ts) and are handed over unchanged.
 */
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.ts';
import { cliActor } from '../audit/key-events.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import { openStore } from '../store/open.ts';
import { StoreConflictError } from '../store/store.ts';
import type { TenantRecord, TenantStatus } from '../store/tenancy.ts';
import { parseCommandArgs } from './args.ts';
import { resolveState } from './keys-command.ts';
import { runTenants as runTenantShred, TENANTS_HELP as SHRED_HELP } from './tenant-erasure-command.ts';
import { UsageError } from './usage-error.ts';

export const TENANTS_HELP = `Usage: portcullis tenants <create|list|suspend|resume|shred|delete> [options]

  tenants create --name NAME [--id ID]
      Creates a tenant. ID (default: generated, ten_…) is 1-64 letters, digits, '.', '_' or '-',
      starting with a letter or digit; keys made with "keys create --tenant ID" belong to it.
  tenants list
      Lists tenants (id, name, status, creation time).
  tenants suspend TENANT
      Suspends a tenant: its API keys, JWT and OAuth callers, and its admins' logins, sessions
      and admin API tokens are refused with 403 auth.tenant_suspended within about a second on
      every running gateway. Nothing is deleted. Audited.
  tenants resume TENANT
      Lifts a suspension. Audited.
  tenants shred TENANT --yes
      Crypto-shreds a tenant (see "portcullis tenants shred --help").
  tenants delete TENANT --yes
      Suspends the tenant, revokes all of its API keys and crypto-shreds it (see
      "portcullis tenants delete --help").

Common options:
  --config FILE     Config file whose store and audit log to use (default: $PORTCULLIS_CONFIG,
                    ./portcullis.yaml, or the demo's ./data folder)
  --data-dir DIR    Without a config file: the demo's state folder (default ./data)
  --json            Machine-readable output
`;

const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

export async function runTenantsCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'shred' || argv[0] === 'delete') return runTenantShred(argv);
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      name: { type: 'string' },
      id: { type: 'string' },
      json: { type: 'boolean' },
    },
    TENANTS_HELP,
    true,
  );
  if (values.help) {
    process.stdout.write(`${TENANTS_HELP}\n${SHRED_HELP}`);
    return 0;
  }
  const [sub, ...args] = positionals;
  if (sub === 'suspend' || sub === 'resume') {
    if (values.name !== undefined || values.id !== undefined)
      throw new UsageError(`--name and --id belong to "tenants create"`);
    if (args.length !== 1) throw new UsageError(`usage: portcullis tenants ${sub} TENANT`);
    return setTenantStatus(args[0]!, sub === 'suspend' ? 'suspended' : 'active', values);
  }
  if (sub !== 'create' && sub !== 'list')
    throw new UsageError(`expected create, list, suspend, resume, shred or delete\n\n${TENANTS_HELP}`);
  if (args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`);
  if (sub === 'list' && (values.name !== undefined || values.id !== undefined))
    throw new UsageError('--name and --id belong to "tenants create"');

  let tenant: TenantRecord | undefined;
  if (sub === 'create') {
    const name = values.name?.trim();
    if (!name || [...name].length > 100 || CONTROL.test(name))
      throw new UsageError('--name is required (1-100 characters, no control characters)');
    const id = values.id ?? `ten_${randomUUID()}`;
    if (!TENANT_ID.test(id))
      throw new UsageError(
        `--id "${id.slice(0, 80)}" must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      );
    tenant = { id, name, status: 'active', createdAt: new Date().toISOString() };
  }

  const { storeCfg, security, audit: auditCfg } = resolveState(values.config, values['data-dir']);
  const store = await openStore(storeCfg);
  let audit: AuditLog | undefined;
  try {
    if (tenant === undefined) {
      const tenants = await store.listTenants();
      if (values.json) process.stdout.write(`${JSON.stringify(tenants)}\n`);
      else if (tenants.length === 0) process.stdout.write('No tenants.\n');
      else
        for (const t of tenants)
          process.stdout.write(`${t.id}  ${JSON.stringify(t.name)}  ${t.status}  created=${t.createdAt}\n`);
      return 0;
    }
    if ((await store.getTenant(tenant.id)) !== undefined) {
      process.stderr.write(`portcullis: a tenant with id ${tenant.id} already exists\n`);
      return 1;
    }
    // Recorded before it is made: no tenant can exist that the audit log does not show.
    audit = await openConfiguredAuditLog(auditCfg, security.dataDir);
    await audit.append({
      actor: cliActor(),
      action: 'tenant.create',
      target: tenant.id,
      decision: 'allowed',
      reason: null,
      requestId: null,
      metadata: { tenant: tenant.id, name: tenant.name },
    });
    try {
      await store.insertTenant(tenant);
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
      process.stderr.write(`portcullis: a tenant with id ${tenant.id} already exists\n`);
      return 1;
    }
    if (values.json) process.stdout.write(`${JSON.stringify(tenant)}\n`);
    else process.stdout.write(`Created tenant ${tenant.id} (${JSON.stringify(tenant.name)}).\n`);
    return 0;
  } finally {
    await audit?.close();
    await store.close();
  }
}

/**
 * `tenants suspend|resume`: recorded in the audit log before the change, as creation is, so no
 * suspension or resumption happens that the log does not show.
 */
async function setTenantStatus(
  id: string,
  status: TenantStatus,
  values: { config?: string | undefined; 'data-dir'?: string | undefined; json?: boolean | undefined },
): Promise<number> {
  const { storeCfg, security, audit: auditCfg } = resolveState(values.config, values['data-dir']);
  const store = await openStore(storeCfg);
  let audit: AuditLog | undefined;
  try {
    const before = await store.getTenant(id);
    if (before === undefined) {
      process.stderr.write(
        `portcullis: no tenant with id ${JSON.stringify(id.slice(0, 80))} (see "portcullis tenants list")\n`,
      );
      return 1;
    }
    const verb = status === 'suspended' ? 'suspended' : 'active';
    if (before.status === status) {
      if (values.json) process.stdout.write(`${JSON.stringify(before)}\n`);
      else process.stdout.write(`Tenant ${id} is already ${verb}; nothing changed.\n`);
      return 0;
    }
    audit = await openConfiguredAuditLog(auditCfg, security.dataDir);
    await audit.append({
      actor: cliActor(),
      action: status === 'suspended' ? 'tenant.suspend' : 'tenant.resume',
      target: id,
      decision: 'allowed',
      reason: null,
      requestId: null,
      metadata: { tenant: id, old_status: before.status, status },
    });
    const after = await store.updateTenant(id, { status });
    if (after === undefined) {
      process.stderr.write(`portcullis: tenant ${id} disappeared while it was being changed\n`);
      return 1;
    }
    if (values.json) process.stdout.write(`${JSON.stringify(after)}\n`);
    else if (status === 'suspended')
      process.stdout.write(
        `Suspended tenant ${id}: its callers and admins are refused from now on (within about a second).\n`,
      );
    else process.stdout.write(`Resumed tenant ${id}.\n`);
    return 0;
  } finally {
    await audit?.close();
    await store.close();
  }
}
