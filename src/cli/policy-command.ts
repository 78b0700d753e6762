/**
 * `portcullis policy`: live policy from the host (docs/policy.md). It reads the config file for
 * the bootstrap, the store and the audit log, and runs the same operations as the admin API
 * (src/live-policy/service.ts) as author `cli` with the OS user name. Exit codes: 0 done (a no-op
 * apply included), 1 refused, 2 bad usage, 3 conflict.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import type { AuditLog } from '../audit/audit-log.ts';
import { cliActor } from '../audit/key-events.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import { ConfigError } from '../config/errors.ts';
import { loadConfig, readConfigText } from '../config/load.ts';
import type { GatewayConfig } from '../config/types.ts';
import { GatewayError } from '../errors/gateway-error.ts';
import { publishPolicyActivation } from '../live-policy/announce.ts';
import { diffPolicy, type PolicyChange, parseStoredDocument, splitConfigFile } from '../live-policy/document.ts';
import { type ApplyResult, createPolicyService, type PolicyActor, type PolicyService } from '../live-policy/service.ts';
import type { PolicyVersion } from '../policy/contract.ts';
import { openStore } from '../store/open.ts';
import { parseCommandArgs } from './args.ts';
import { runPolicyDryRun, runPolicyExplain } from './policy-dry-run-command.ts';
import { UsageError } from './usage-error.ts';

export const POLICY_HELP = `Usage: portcullis policy <command> [options]

  policy show [N] [--json]            the active version (or version N) and its document
                                      (YAML, ready to edit and apply)
  policy history [--limit N] [--json] versions, newest first
  policy validate FILE                check a policy document; every problem with line and path
  policy diff A B                     what changes from A to B, by path (A, B: a version
                                      number, "active", or a FILE)
  policy dry-run FILE [--since 24h]   replay recorded traffic under FILE and the active policy:
                                      what FILE would refuse, throttle, reroute or reprice, per
                                      rule (see portcullis policy dry-run --help)
  policy explain --request FILE --key ID [--policy FILE]
                                      the decision trace of one request (see --help)
  policy propose FILE --comment TEXT  store a version for review
  policy approve N                    approve a proposal (never your own)
  policy reject N --reason TEXT       reject a proposal
  policy apply FILE|N [--if-version N] [--comment TEXT]
                                      make a document (a new version) or version N active on
                                      every instance; an unchanged document is a no-op
  policy rollback [--to N] [--comment TEXT]
                                      a new version equal to N (default: the previous one)

Options:
  --config FILE   the config file (default: $PORTCULLIS_CONFIG or ./portcullis.yaml): its
                  bootstrap part, store and audit log are used
  --json          machine-readable output

Exit codes: 0 done (an apply that changes nothing included), 1 refused (invalid document,
approval required, self-approval, not found, wrong state), 2 bad usage, 3 conflict (a stale
--if-version, a concurrent change won).
`;

const WRITES = new Set(['propose', 'approve', 'reject', 'apply', 'rollback']);
const COMMANDS = new Set(['show', 'history', 'validate', 'diff', ...WRITES]);

function versionNumber(v: string | undefined, what: string): number {
  if (v === undefined || !/^[0-9]{1,15}$/.test(v) || Number(v) < 1)
    throw new UsageError(`${what} must be a version number (1, 2, …), got ${JSON.stringify(v ?? '')}`);
  return Number(v);
}

function osUser(): string {
  try {
    return userInfo().username.slice(0, 256) || 'unknown';
  } catch {
    return 'unknown';
  }
}

function formatValue(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}

export function formatChanges(changes: readonly PolicyChange[]): string {
  if (changes.length === 0) return '  (no changes)\n';
  return changes
    .map((c) =>
      c.kind === 'added'
        ? `  + ${c.path}: ${formatValue(c.after)}\n`
        : c.kind === 'removed'
          ? `  - ${c.path}: ${formatValue(c.before)}\n`
          : `  ~ ${c.path}: ${formatValue(c.before)} → ${formatValue(c.after)}\n`,
    )
    .join('');
}

function describe(v: PolicyVersion): string {
  const decided =
    v.decidedBy === undefined
      ? ''
      : ` ${v.state === 'rejected' ? 'rejected' : 'approved'} by ${v.decidedBy.kind}:${v.decidedBy.id}${v.decisionReason ? ` (${JSON.stringify(v.decisionReason)})` : ''}`;
  return `version ${v.number} ${v.state}  sha256=${v.sha256}  by ${v.author.kind}:${v.author.id}  at ${v.createdAt}${v.parent === undefined ? '' : `  parent=${v.parent}`}${decided}${v.comment ? `  ${JSON.stringify(v.comment)}` : ''}`;
}

function resolveConfigPath(flag: string | undefined): string {
  const path = flag ?? process.env.PORTCULLIS_CONFIG ?? (existsSync('portcullis.yaml') ? 'portcullis.yaml' : undefined);
  if (path === undefined)
    throw new UsageError('policy needs the config file: --config FILE (or $PORTCULLIS_CONFIG, or ./portcullis.yaml)');
  return resolve(path);
}

export async function runPolicyCommand(argv: string[]): Promise<number> {
  // Read-only subcommands with options of their own (src/cli/policy-dry-run-command.ts).
  if (argv[0] === 'dry-run') return runPolicyDryRun(argv.slice(1));
  if (argv[0] === 'explain') return runPolicyExplain(argv.slice(1));
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      json: { type: 'boolean' },
      comment: { type: 'string' },
      reason: { type: 'string' },
      'if-version': { type: 'string' },
      to: { type: 'string' },
      limit: { type: 'string' },
    },
    POLICY_HELP,
    true,
  );
  if (values.help) {
    process.stdout.write(POLICY_HELP);
    return 0;
  }
  const [sub, ...args] = positionals;
  if (sub === undefined || !COMMANDS.has(sub)) throw new UsageError(`expected a policy command\n\n${POLICY_HELP}`);
  const allowed: Record<string, { args: [number, number]; flags: string[] }> = {
    show: { args: [0, 1], flags: ['json'] },
    history: { args: [0, 0], flags: ['json', 'limit'] },
    validate: { args: [1, 1], flags: ['json'] },
    diff: { args: [2, 2], flags: ['json'] },
    propose: { args: [1, 1], flags: ['json', 'comment'] },
    approve: { args: [1, 1], flags: ['json'] },
    reject: { args: [1, 1], flags: ['json', 'reason'] },
    apply: { args: [1, 1], flags: ['json', 'if-version', 'comment'] },
    rollback: { args: [0, 0], flags: ['json', 'to', 'comment'] },
  };
  const rule = allowed[sub]!;
  if (args.length < rule.args[0] || args.length > rule.args[1])
    throw new UsageError(`wrong number of arguments for "policy ${sub}"\n\n${POLICY_HELP}`);
  for (const flag of ['comment', 'reason', 'if-version', 'to', 'limit'] as const)
    if (values[flag] !== undefined && !rule.flags.includes(flag))
      throw new UsageError(`--${flag} does not apply to "policy ${sub}"`);
  if (sub === 'propose' && values.comment === undefined) throw new UsageError('policy propose needs --comment TEXT');
  if (sub === 'reject' && values.reason === undefined) throw new UsageError('policy reject needs --reason TEXT');
  const ifVersion =
    values['if-version'] === undefined ? undefined : versionNumber(values['if-version'], '--if-version');
  const to = values.to === undefined ? undefined : versionNumber(values.to, '--to');
  const limit = values.limit === undefined ? undefined : versionNumber(values.limit, '--limit');
  if (limit !== undefined && limit > 1000) throw new UsageError('--limit must be at most 1000');

  const configPath = resolveConfigPath(values.config);
  let config: GatewayConfig;
  let bootstrap: ReturnType<typeof splitConfigFile>['bootstrap'];
  try {
    config = loadConfig(configPath);
    bootstrap = splitConfigFile(configPath).bootstrap;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }

  const store = await openStore(config.store);
  let audit: AuditLog | undefined;
  const out = (text: string) => process.stdout.write(text);
  try {
    if (WRITES.has(sub)) audit = await openConfiguredAuditLog(config.audit, config.security.dataDir);
    const writer = audit;
    const service = createPolicyService({
      store,
      bootstrap,
      requireApproval: config.policy.requireApproval,
      audit: async (entry) => {
        if (writer === undefined) throw new Error('read-only policy command tried to write an audit record');
        await writer.append(entry);
      },
      publish: (n) => publishPolicyActivation(config.redis, n),
    });
    const actor: PolicyActor = {
      author: { kind: 'cli', id: osUser() },
      audit: cliActor(),
      requestId: null,
    };
    return await run(sub, args, { ...values, ifVersion, to, limit }, service, actor, out);
  } catch (err) {
    if (err instanceof GatewayError) {
      process.stderr.write(`portcullis: ${err.code}: ${err.message}\n`);
      const file = ['validate', 'propose', 'apply', 'diff'].includes(sub)
        ? args.find((a) => !/^([0-9]+|active)$/.test(a))
        : undefined;
      for (const d of err.details ?? []) {
        const where =
          d.line === undefined
            ? file === undefined
              ? ''
              : `${file}: `
            : `${file ?? ''}${file === undefined ? '' : ':'}${d.line}:${d.column ?? 1}: `;
        process.stderr.write(`  - ${where}${d.path === '' ? '' : `${d.path}: `}${d.message}\n`);
      }
      return err.status === 409 ? 3 : 1;
    }
    throw err;
  } finally {
    await audit?.close();
    await store.close();
  }
}

interface RunOptions {
  readonly json?: boolean | undefined;
  readonly comment?: string | undefined;
  readonly reason?: string | undefined;
  readonly ifVersion: number | undefined;
  readonly to: number | undefined;
  readonly limit: number | undefined;
}

/** A FILE's text, or a UsageError naming it. */
function fileText(path: string): string {
  try {
    return readConfigText(resolve(path));
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

async function run(
  sub: string,
  args: string[],
  o: RunOptions,
  service: PolicyService,
  actor: PolicyActor,
  out: (text: string) => void,
): Promise<number> {
  const json = (v: unknown) => out(`${JSON.stringify(v, null, 2)}\n`);
  const applied = (r: ApplyResult, verb: string) => {
    if (o.json) return json(r);
    if (!r.changed) {
      out(`No change: the document equals the active version ${r.version.number}; nothing was stored.\n`);
      return;
    }
    out(`${verb} version ${r.version.number} (sha256 ${r.version.sha256}); it was ${r.previous ?? 'none'}.\n`);
    out(formatChanges(r.changes));
    if (r.localError !== undefined) out(`Warning: ${r.localError}\n`);
  };
  switch (sub) {
    case 'show': {
      const v = await service.show(args[0] === undefined ? undefined : versionNumber(args[0], 'N'));
      const document = parseStoredDocument(v.document);
      if (o.json) json({ ...v, document });
      else out(`# ${describe(v)}\n${stringify(document)}`);
      return 0;
    }
    case 'history': {
      const list = await service.history(o.limit === undefined ? {} : { limit: o.limit });
      if (o.json) json(list);
      else if (list.length === 0) out('No policy versions.\n');
      else for (const v of list) out(`${describe(v)}\n`);
      return 0;
    }
    case 'validate': {
      const path = args[0]!;
      const r = await service.validate(fileText(path), resolve(path));
      if (o.json) json({ valid: true, sha256: r.valid.sha256, active: r.active ?? null, changes: r.changes });
      else {
        out(`Valid: ${path} (sha256 ${r.valid.sha256}); against the active version ${r.active ?? '(none)'}:\n`);
        out(formatChanges(r.changes));
      }
      return 0;
    }
    case 'diff': {
      const doc = async (ref: string) => {
        if (ref === 'active') return parseStoredDocument((await service.show()).document);
        if (/^[0-9]+$/.test(ref)) return parseStoredDocument((await service.show(versionNumber(ref, ref))).document);
        return (await service.validate(fileText(ref), resolve(ref))).valid.document;
      };
      const changes = diffPolicy(await doc(args[0]!), await doc(args[1]!));
      if (o.json) json({ changes });
      else out(formatChanges(changes));
      return 0;
    }
    case 'propose': {
      const path = args[0]!;
      const r = await service.propose(fileText(path), resolve(path), o.comment ?? '', actor);
      if (o.json) json(r);
      else {
        out(`Proposed version ${r.version.number} (sha256 ${r.version.sha256}) on top of ${r.previous ?? 'none'}:\n`);
        out(formatChanges(r.changes));
      }
      return 0;
    }
    case 'approve':
    case 'reject': {
      const n = versionNumber(args[0], 'N');
      const v = sub === 'approve' ? await service.approve(n, actor) : await service.reject(n, o.reason ?? '', actor);
      if (o.json) json(v);
      else out(`${sub === 'approve' ? 'Approved' : 'Rejected'} ${describe(v)}\n`);
      return 0;
    }
    case 'apply': {
      const target = args[0]!;
      const what = /^[0-9]+$/.test(target)
        ? { number: versionNumber(target, 'N') }
        : { text: fileText(target), source: resolve(target) };
      const r = await service.apply(
        what,
        {
          ...(o.ifVersion === undefined ? {} : { ifVersion: o.ifVersion }),
          ...(o.comment === undefined ? {} : { comment: o.comment }),
        },
        actor,
      );
      applied(r, 'Applied');
      return 0;
    }
    case 'rollback': {
      const r = await service.rollback(
        { ...(o.to === undefined ? {} : { to: o.to }), ...(o.comment === undefined ? {} : { comment: o.comment }) },
        actor,
      );
      applied(r, 'Rolled back: applied');
      return 0;
    }
  }
  throw new UsageError(`expected a policy command\n\n${POLICY_HELP}`);
}
