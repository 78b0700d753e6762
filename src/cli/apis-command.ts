/**
 * `portcullis apis …` and `portcullis subscriptions …`: the operator's side of prompt APIs,
 * through the same service as the admin API (src/apis/service.ts): every change is checked
 * first, written to the audit log with a `cli` actor before it is made, and its api.* security
 * event is recorded. The CLI acts as a tenant-wide operator (it belongs to no team).
 */
import { existsSync, readFileSync } from 'node:fs';
import { subscriptionView } from '../admin/resources/api-subscriptions.ts';
import { apiView, pathView, versionView } from '../admin/resources/prompt-apis.ts';
import { catalogFor } from '../apis/catalog.ts';
import { apiOpenApi } from '../apis/openapi.ts';
import { createApiService } from '../apis/service.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { cliActor } from '../audit/key-events.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import { loadConfig } from '../config/load.ts';
import { isGatewayError } from '../errors/gateway-error.ts';
import { API_NAME } from '../server/route-table.ts';
import { openStore } from '../store/open.ts';
import { API_VISIBILITIES, type ApiVisibility, type PromptApiRecord } from '../store/prompt-api-records.ts';
import { parseCommandArgs } from './args.ts';
import { resolveState } from './keys-command.ts';
import { UsageError } from './usage-error.ts';

export const APIS_HELP = `Usage: portcullis apis <command> [options]    (docs/prompt-apis.md)

  apis list                                   The tenant's prompt APIs
  apis show NAME                              One API: versions, states, opaque paths
  apis create NAME --owner-team TEAM [--visibility tenant|team] [--description TEXT]
  apis version NAME --definition FILE [--major N]
      Adds a draft version (the next minor of the newest major, or --major N). FILE is the JSON
      definition: model, messages, parameters, input_schema, output_schema, examples. A minor
      that would break the input schema of its published versions is refused: use a new major.
  apis update-draft NAME VERSION --definition FILE   Replaces a draft (published ones are immutable)
  apis publish NAME VERSION
  apis deprecate NAME VERSION [--sunset TIME] [--successor vN]
  apis retire NAME VERSION [--successor vN]
  apis rotate-path NAME --major N [--grace SECONDS]
      A new opaque path /x/…; the previous ones answer for SECONDS more (default 86400), then 404.
  apis openapi NAME                           The API's OpenAPI 3.1 document

Common options:
  --tenant ID       The tenant (default: default)
  --config FILE     Config file whose store, audit log and model routes to use (default:
                    $PORTCULLIS_CONFIG or ./portcullis.yaml)
  --data-dir DIR    Without a config file: the demo's state folder (default ./data); definitions
                    cannot be added then (their model routes are checked against the config)
  --json            Machine-readable output
`;

export const SUBSCRIPTIONS_HELP = `Usage: portcullis subscriptions <command> [options]    (docs/prompt-apis.md)

  subscriptions list [--api NAME]
  subscriptions request API --team TEAM --reason TEXT --rpm N --monthly-quota N
      Asks access for a consumer team under a plan (requests per minute, calls per UTC month).
  subscriptions approve|reject|suspend|resume|revoke ID [--reason TEXT]
      The owner's decision (a reason is required to reject). Takes effect on the next call.

Common options: --tenant ID, --config FILE, --data-dir DIR, --json (as for "portcullis apis")
`;

const OPTIONS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  tenant: { type: 'string' },
  json: { type: 'boolean' },
  'owner-team': { type: 'string' },
  visibility: { type: 'string' },
  description: { type: 'string' },
  definition: { type: 'string' },
  major: { type: 'string' },
  sunset: { type: 'string' },
  successor: { type: 'string' },
  grace: { type: 'string' },
  api: { type: 'string' },
  team: { type: 'string' },
  reason: { type: 'string' },
  rpm: { type: 'string' },
  'monthly-quota': { type: 'string' },
} as const;

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,10}$/.test(v)) throw new UsageError(`${flag} must be a whole number, got "${v.slice(0, 40)}"`);
  return Number(v);
}

function configPathOf(flag: string | undefined, dataDir: string | undefined): string | undefined {
  return (
    flag ??
    process.env.PORTCULLIS_CONFIG ??
    (existsSync('portcullis.yaml') && dataDir === undefined ? 'portcullis.yaml' : undefined)
  );
}

export async function runApisCommand(kind: 'apis' | 'subscriptions', argv: string[]): Promise<number> {
  const help = kind === 'apis' ? APIS_HELP : SUBSCRIPTIONS_HELP;
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, help, true);
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const [sub, ...args] = positionals;
  if (sub === undefined) throw new UsageError(help);
  const tenantId = values.tenant ?? 'default';
  const configPath = configPathOf(values.config, values['data-dir']);
  const models = configPath === undefined ? undefined : loadConfig(configPath).models;
  const { storeCfg, security, audit: auditCfg } = resolveState(values.config, values['data-dir']);
  const store = await openStore(storeCfg);
  let audit: AuditLog | undefined;
  const out = (json: unknown, text: string) =>
    process.stdout.write(values.json ? `${JSON.stringify(json)}\n` : `${text}\n`);
  try {
    const actor = cliActor();
    const actorId = `cli:${actor.id ?? 'unknown'}`;
    const service = createApiService({
      store,
      knownModel: (name) => {
        if (models === undefined)
          throw new UsageError('adding a definition needs --config (model routes are checked against it)');
        return models.has(name);
      },
      // The CLI has no alert dispatcher; the audit record below is the trace of every change.
      events: { emit() {} },
      record: async (action, target, metadata) => {
        audit ??= await openConfiguredAuditLog(auditCfg, security.dataDir);
        await audit.append({ actor, action, target, decision: 'allowed', reason: null, requestId: null, metadata });
      },
    });
    const who = { id: actorId, teamId: null };
    const apiNamed = async (name: string | undefined): Promise<PromptApiRecord> => {
      if (name === undefined) throw new UsageError(`the API name is missing\n\n${help}`);
      const api = await store.findPromptApiByName(tenantId, name);
      if (api === undefined) throw new CliFailure(`no API named "${name.slice(0, 80)}" in tenant ${tenantId}`);
      return api;
    };
    const definitionFile = (): unknown => {
      if (values.definition === undefined) throw new UsageError('--definition FILE is required');
      try {
        return JSON.parse(readFileSync(values.definition, 'utf8')) as unknown;
      } catch (err) {
        throw new CliFailure(`cannot read ${values.definition}: ${(err as Error).message}`);
      }
    };
    try {
      if (kind === 'apis') await runApis(sub, args);
      else await runSubscriptions(sub, args);
      return 0;
    } catch (err) {
      if (err instanceof CliFailure || isGatewayError(err)) {
        process.stderr.write(`portcullis: ${(err as Error).message}\n`);
        return 1;
      }
      throw err;
    }

    async function runApis(cmd: string, rest: string[]): Promise<void> {
      switch (cmd) {
        case 'list': {
          const apis = await store.listPromptApis(tenantId);
          out(
            apis.map(apiView),
            apis.length === 0
              ? 'No APIs.'
              : apis
                  .map((a) => `${a.name}  owner=${a.ownerTeamId}  ${a.visibility}  ${JSON.stringify(a.description)}`)
                  .join('\n'),
          );
          return;
        }
        case 'show': {
          const api = await apiNamed(rest[0]);
          const versions = await store.listPromptApiVersions(tenantId, api.id);
          const paths = await store.listApiPaths(tenantId, api.id);
          out(
            { ...apiView(api), versions: versions.map(versionView), paths: paths.map(pathView) },
            [
              `${api.name} (${api.id}) owner=${api.ownerTeamId} visibility=${api.visibility}`,
              ...versions.map(
                (v) => `  v${v.major}.${v.minor}  ${v.state}${v.successor ? `  successor=${v.successor}` : ''}`,
              ),
              ...paths.map(
                (p) => `  /x/${p.path}  v${p.major}  ${p.expiresAt === null ? 'current' : `until ${p.expiresAt}`}`,
              ),
            ].join('\n'),
          );
          return;
        }
        case 'create': {
          const name = rest[0];
          if (name === undefined || !API_NAME.test(name))
            throw new UsageError('NAME: 1-63 lower-case letters, digits or "-", starting with a letter or digit');
          if (values['owner-team'] === undefined) throw new UsageError('--owner-team TEAM is required');
          const visibility = values.visibility ?? 'tenant';
          if (!(API_VISIBILITIES as readonly string[]).includes(visibility))
            throw new UsageError('--visibility must be tenant or team');
          const api = await service.createApi({
            tenantId,
            name,
            ownerTeamId: values['owner-team'],
            visibility: visibility as ApiVisibility,
            description: values.description ?? '',
            actor: who,
          });
          out(apiView(api), `Created API ${api.name} (${api.id}).`);
          return;
        }
        case 'version': {
          const api = await apiNamed(rest[0]);
          const v = await service.createVersion(api, definitionFile(), positiveInt(values.major, '--major'), who);
          out(versionView(v), `Added draft ${api.name} v${v.major}.${v.minor}.`);
          return;
        }
        case 'update-draft': {
          const api = await apiNamed(rest[0]);
          const v = await service.updateDraft(api, rest[1] ?? '', definitionFile(), who);
          out(versionView(v), `Replaced draft ${api.name} v${v.major}.${v.minor}.`);
          return;
        }
        case 'publish':
        case 'deprecate':
        case 'retire': {
          const api = await apiNamed(rest[0]);
          const v = await service.transition(
            api,
            rest[1] ?? '',
            cmd,
            {
              ...(values.sunset === undefined ? {} : { sunsetAt: new Date(values.sunset).toISOString() }),
              ...(values.successor === undefined ? {} : { successor: values.successor }),
            },
            who,
          );
          out(versionView(v), `${api.name} v${v.major}.${v.minor} is ${v.state}.`);
          return;
        }
        case 'rotate-path': {
          const api = await apiNamed(rest[0]);
          const major = positiveInt(values.major, '--major');
          if (major === undefined) throw new UsageError('--major N is required');
          const p = await service.rotatePath(api, major, positiveInt(values.grace, '--grace') ?? 86_400, who);
          out(pathView(p), `New path for ${api.name} v${major}: /x/${p.path}`);
          return;
        }
        case 'openapi': {
          const api = await apiNamed(rest[0]);
          const entry = (
            await catalogFor(store, {
              kind: 'api_key',
              keyId: actorId,
              keyPrefix: 'cli',
              tenantId,
              label: 'cli',
              allowedModels: [],
              teamId: api.ownerTeamId,
            })
          ).find((e) => e.name === api.name);
          if (entry === undefined) throw new CliFailure(`${api.name} has no versions yet`);
          process.stdout.write(`${JSON.stringify(apiOpenApi(entry), null, 2)}\n`);
          return;
        }
        default:
          throw new UsageError(`unknown command "apis ${cmd.slice(0, 40)}"\n\n${APIS_HELP}`);
      }
    }

    async function runSubscriptions(cmd: string, rest: string[]): Promise<void> {
      switch (cmd) {
        case 'list': {
          const api = values.api === undefined ? undefined : await apiNamed(values.api);
          const subs = await store.listApiSubscriptions(tenantId, api === undefined ? {} : { apiId: api.id });
          out(
            subs.map(subscriptionView),
            subs.length === 0
              ? 'No subscriptions.'
              : subs
                  .map(
                    (s) =>
                      `${s.id}  api=${s.apiId}  team=${s.consumerTeamId}  ${s.state}  rpm=${s.planRpm} monthly=${s.planMonthlyQuota}`,
                  )
                  .join('\n'),
          );
          return;
        }
        case 'request': {
          const api = await apiNamed(rest[0]);
          if (values.team === undefined || values.reason === undefined)
            throw new UsageError('--team TEAM and --reason TEXT are required');
          const rpm = positiveInt(values.rpm, '--rpm');
          const quota = positiveInt(values['monthly-quota'], '--monthly-quota');
          if (rpm === undefined || rpm < 1 || quota === undefined || quota < 1)
            throw new UsageError('--rpm N and --monthly-quota N (both at least 1) are required');
          const s = await service.requestSubscription(
            api,
            { consumerTeamId: values.team, reason: values.reason, planRpm: rpm, planMonthlyQuota: quota },
            who,
          );
          out(subscriptionView(s), `Requested ${s.id} (pending).`);
          return;
        }
        case 'approve':
        case 'reject':
        case 'suspend':
        case 'resume':
        case 'revoke': {
          const id = rest[0];
          if (id === undefined) throw new UsageError(`usage: portcullis subscriptions ${cmd} ID`);
          const s = await store.getApiSubscription(tenantId, id);
          if (s === undefined) throw new CliFailure(`no subscription ${id.slice(0, 80)} in tenant ${tenantId}`);
          const api = await store.getPromptApi(tenantId, s.apiId);
          if (api === undefined) throw new CliFailure(`the API of ${id} no longer exists`);
          if (cmd === 'reject' && values.reason === undefined)
            throw new UsageError('--reason TEXT is required to reject');
          const after = await service.decideSubscription(api, s, cmd, values.reason ?? null, who);
          out(subscriptionView(after), `${after.id} is ${after.state}.`);
          return;
        }
        default:
          throw new UsageError(`unknown command "subscriptions ${cmd.slice(0, 40)}"\n\n${SUBSCRIPTIONS_HELP}`);
      }
    }
  } finally {
    await audit?.close();
    await store.close();
  }
}

class CliFailure extends Error {}
