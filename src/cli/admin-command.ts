/**
 * `portcullis admin`: bootstrap admin accounts from the operator's terminal (the first owner
 * cannot be created through the API) and recover one whose authenticator is lost. The password
 * never comes from argv (it would sit in shell history and `ps`): it is read from stdin, or
 * prompted for without echo on a terminal. TOTP secret and recovery codes are printed once.
 */

import type { AuditLog } from '../audit/audit-log.ts';
import { cliActor } from '../audit/key-events.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import type { Envelope } from '../crypto/envelope.ts';
import { closeEnvelope, openEnvelope } from '../crypto/open.ts';
import { isGatewayError } from '../errors/gateway-error.ts';
import { createAdminAccounts, type MfaSetup, normaliseEmail } from '../identity/admin/admin-accounts.ts';
import { passwordProblem } from '../identity/admin/password.ts';
import { ADMIN_ROLES, type AdminRole } from '../identity/admin/roles.ts';
import { resolveKeyHashSecret } from '../identity/key-secret.ts';
import { silentLogger } from '../observability/logger.ts';
import { openStore } from '../store/open.ts';
import { StoreConflictError } from '../store/store.ts';
import { parseCommandArgs } from './args.ts';
import { resolveState } from './keys-command.ts';
import { UsageError } from './usage-error.ts';

export const ADMIN_HELP = `Usage: portcullis admin <create|reset-mfa> [options]

  admin create --tenant ID --email EMAIL --role ROLE [--team ID]
      Creates an admin user. The password is read from stdin (first line) or, on a terminal,
      prompted for twice without echo; at least 12 characters, not a common password.
      Prints the TOTP secret, its otpauth:// URI (add it to an authenticator app) and 10
      one-time recovery codes. They are shown once; store the codes offline.
      ROLE: ${ADMIN_ROLES.join(', ')}
  admin reset-mfa --email EMAIL
      Gives the user a new TOTP secret and new recovery codes (the old ones stop working),
      and ends all their sessions and admin API tokens. Audited.

Common options:
  --config FILE     Config file whose store, secrets and audit log to use (default:
                    $PORTCULLIS_CONFIG, ./portcullis.yaml, or the demo's ./data folder)
  --data-dir DIR    Without a config file: the demo's state folder (default ./data)
  --json            Machine-readable output
`;

export async function runAdmin(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      tenant: { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string' },
      team: { type: 'string' },
      json: { type: 'boolean' },
    },
    ADMIN_HELP,
    true,
  );
  if (values.help) {
    process.stdout.write(ADMIN_HELP);
    return 0;
  }
  const [sub, ...rest] = positionals;
  if (sub !== 'create' && sub !== 'reset-mfa') throw new UsageError(`expected create or reset-mfa\n\n${ADMIN_HELP}`);
  if (rest.length > 0)
    throw new UsageError(`unexpected argument "${rest[0]}" (the password is never taken from the command line)`);
  if (!values.email) throw new UsageError(`--email is required\n\n${ADMIN_HELP}`);
  const email = normaliseEmail(values.email);
  let role: AdminRole | undefined;
  if (sub === 'create') {
    if (!values.tenant) throw new UsageError('--tenant is required');
    if (!values.role || !(ADMIN_ROLES as readonly string[]).includes(values.role))
      throw new UsageError(`--role must be one of: ${ADMIN_ROLES.join(', ')}`);
    role = values.role as AdminRole;
  }
  const password = sub === 'create' ? await readPassword() : undefined;
  const weak =
    password === undefined
      ? undefined
      : await passwordProblem(password, email, values.tenant === undefined ? [] : [values.tenant]);
  if (weak !== undefined) return fail(`the password is not acceptable: ${weak}`);

  const { storeCfg, security, audit: auditCfg } = resolveState(values.config, values['data-dir']);
  const store = await openStore(storeCfg);
  let audit: AuditLog | undefined;
  let opened: Envelope | undefined;
  try {
    // Opened first: a broken audit log stops the change before it happens.
    audit = await openConfiguredAuditLog(auditCfg, security.dataDir);
    const envelope = await openEnvelope(security, store, silentLogger());
    opened = envelope;
    const accounts = createAdminAccounts({ store, secret: resolveKeyHashSecret(security), sealer: envelope });
    let userId: string;
    let tenantId: string;
    let mfa: MfaSetup;
    if (sub === 'create') {
      try {
        const created = await accounts.create({
          tenantId: values.tenant!,
          teamId: values.team ?? null,
          email,
          role: role!,
          password: password!,
        });
        userId = created.user.id;
        tenantId = created.user.tenantId;
        mfa = created.mfa!;
      } catch (err) {
        if (err instanceof StoreConflictError) return fail(`an admin with email ${email} already exists`);
        if (isGatewayError(err)) return fail(err.publicMessage);
        throw err;
      }
    } else {
      const user = await store.findAdminUserByEmail(email);
      if (user === undefined) return fail(`no admin with email ${email}`);
      userId = user.id;
      tenantId = user.tenantId;
      mfa = await accounts.resetMfa(user.id);
    }
    try {
      await audit.append({
        actor: cliActor(),
        action: sub === 'create' ? 'admin_user.create' : 'admin_user.reset_mfa',
        target: userId,
        decision: 'allowed',
        reason: null,
        requestId: null,
        metadata: { tenant: tenantId, email, ...(role ? { role } : {}) },
      });
    } catch (err) {
      // Fail closed: an account the audit log does not show is disabled before anyone can use it.
      await accounts.disable(userId).catch(() => undefined);
      return fail(
        `the change was undone (account disabled): the audit record could not be written (${(err as Error).message})`,
      );
    }
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ id: userId, tenant_id: tenantId, email, totp_secret: mfa.totpSecret, otpauth_uri: mfa.otpauthUri, recovery_codes: mfa.recoveryCodes })}\n`,
      );
    } else {
      process.stdout.write(
        `${sub === 'create' ? 'Created admin' : 'Reset MFA of'} ${email} (${userId}, tenant ${tenantId}).\n\n` +
          'Add this to an authenticator app (shown once):\n' +
          `  secret: ${mfa.totpSecret}\n  uri:    ${mfa.otpauthUri}\n\n` +
          'Recovery codes (each works once; store them offline):\n' +
          mfa.recoveryCodes.map((c) => `  ${c}\n`).join('') +
          '\n',
      );
    }
    return 0;
  } finally {
    await audit?.close();
    await closeEnvelope(opened);
    await store.close();
  }
}

function fail(message: string): number {
  process.stderr.write(`portcullis: ${message}\n`);
  return 1;
}

async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await prompt('New admin password: ');
    const again = await prompt('Repeat the password: ');
    if (first !== again) throw new UsageError('the passwords do not match');
    return first;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new UsageError('stdin is too long for a password');
    chunks.push(chunk as Buffer);
  }
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (line.length === 0)
    throw new UsageError(
      'no password on stdin (pipe it in, e.g. from a password manager, or run on a terminal to be prompted)',
    );
  return line;
}

/** Reads one line from the terminal in raw mode, echoing nothing. */
function prompt(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (data: Buffer) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else if (ch >= ' ') text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
