/**
 * `portcullis policy dry-run FILE` and `portcullis policy explain --request FILE --key ID`:
 * what a candidate policy would have done to the recorded traffic, and the decision trace of
 * one request. Both run on the host against the config file's store; they read and never
 * change anything.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import type { GatewayConfig } from '../config/types.ts';
import { formatMicros } from '../cost/money.ts';
import { splitConfigFile } from '../live-policy/document.ts';
import { DEFAULT_MAX_RECORDS, type DryRunReport, dryRun, MAX_RECORDS } from '../live-policy/dry-run.ts';
import { type Explanation, explainRequest } from '../live-policy/explain.ts';
import { activePolicy, candidatePolicy, parseWindow } from '../live-policy/policy-sources.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { parseCommandArgs } from './args.ts';
import { UsageError } from './usage-error.ts';

export const DRY_RUN_HELP = `Usage: portcullis policy dry-run FILE [--since 24h] [options]

  Replays the recorded requests of a window under the active policy and under the candidate
  policy document FILE (policy sections only, as for policy apply), each with fresh counters,
  and reports what the candidate would change: per rule, the requests it would refuse,
  throttle, let through, reroute or price differently, and the most affected keys and teams.
  An invalid document exits 1 naming every problem. Requests are replayed from their records' decision inputs (counts and sizes, never text);
  the sample is the window's most recent records, at most --max-records of them.

Options:
  --since WHEN        Window start: a duration back from --until (30m, 24h, 7d) or an
                      ISO-8601 time (default 24h; at most 31 days)
  --until TIME        Window end, ISO-8601 (default now)
  --max-records N     Most records replayed, 1..${MAX_RECORDS} (default ${DEFAULT_MAX_RECORDS})
  --tenant ID         Only this tenant's requests
  --json              The report as JSON instead of a table
  --config FILE       The gateway's config file (default: $PORTCULLIS_CONFIG or ./portcullis.yaml)
`;

export const EXPLAIN_HELP = `Usage: portcullis policy explain --request FILE --key ID [--policy FILE] [options]

  The decision trace of one request: each stage (validate, authorize, limit, budget, route)
  with what it decided, the rule or limit that refused, and every limit, budget and target
  that applies to the key and model. Counters start empty. The request is decided under the
  active policy, or under the candidate document given with --policy.

Options:
  --request FILE      The request body (JSON), as the client would send it
  --key ID            The API key id the request is sent with
  --policy FILE       A candidate policy document instead of the active policy
  --surface S         openai (default) or anthropic (an Anthropic Messages body)
  --endpoint E        chat (default) or embeddings
  --json              The trace as JSON
  --config FILE       The gateway's config file (default: $PORTCULLIS_CONFIG or ./portcullis.yaml)
`;

/** Request bodies larger than this are refused (the gateway's own body cap is lower). */
const MAX_REQUEST_FILE_BYTES = 64 * 1024 * 1024;

interface Context {
  readonly store: Store;
  readonly fileConfig: GatewayConfig;
  readonly bootstrap: ReturnType<typeof splitConfigFile>['bootstrap'];
}

async function withGateway(configFlag: string | undefined, run: (c: Context) => Promise<number>): Promise<number> {
  const configPath =
    configFlag ?? process.env.PORTCULLIS_CONFIG ?? (existsSync('portcullis.yaml') ? 'portcullis.yaml' : undefined);
  if (configPath === undefined) throw new UsageError('no config file: give --config FILE (or set PORTCULLIS_CONFIG)');
  let fileConfig: GatewayConfig;
  let bootstrap: Context['bootstrap'];
  try {
    fileConfig = loadConfig(configPath);
    bootstrap = splitConfigFile(configPath).bootstrap;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  const store = await openStore(fileConfig.store);
  try {
    return await run({ store, fileConfig, bootstrap });
  } finally {
    await store.close();
  }
}

/** Reads a candidate document; a ConfigError (every problem) goes to stderr and gives undefined. */
function readCandidate(path: string, c: Context): GatewayConfig | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return candidatePolicy(text, path, c.bootstrap);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return undefined;
  }
}

export async function runPolicyDryRun(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      since: { type: 'string' },
      until: { type: 'string' },
      'max-records': { type: 'string' },
      tenant: { type: 'string' },
      json: { type: 'boolean' },
      config: { type: 'string' },
    },
    DRY_RUN_HELP,
    true,
  );
  if (values.help) {
    process.stdout.write(DRY_RUN_HELP);
    return 0;
  }
  const [file, ...extra] = positionals;
  if (file === undefined) throw new UsageError(`policy dry-run needs the candidate document FILE\n\n${DRY_RUN_HELP}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]!.slice(0, 64)}"`);
  const window = parseWindow(values.since, values.until);
  if (typeof window === 'string') throw new UsageError(window);
  const maxRecords = values['max-records'] === undefined ? DEFAULT_MAX_RECORDS : Number(values['max-records']);
  if (!Number.isSafeInteger(maxRecords) || maxRecords < 1 || maxRecords > MAX_RECORDS)
    throw new UsageError(`--max-records must be an integer from 1 to ${MAX_RECORDS}`);
  if (values.tenant !== undefined && (values.tenant === '' || values.tenant.length > 256))
    throw new UsageError('--tenant must be 1..256 characters');
  return withGateway(values.config, async (c) => {
    const candidate = readCandidate(file, c);
    if (candidate === undefined) return 1;
    const active = await activePolicy(c.store, c.bootstrap, c.fileConfig);
    const report = await dryRun({
      store: c.store,
      active: active.config,
      candidate,
      ...window,
      maxRecords,
      ...(values.tenant === undefined ? {} : { tenantId: values.tenant }),
    });
    const activeName = active.version === undefined ? 'the config file' : `version ${active.version}`;
    process.stdout.write(
      values.json
        ? `${JSON.stringify({ active_policy: active.version ?? null, candidate_file: file, ...report }, null, 2)}\n`
        : renderDryRun(report, activeName, file),
    );
    return 0;
  });
}

export async function runPolicyExplain(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      request: { type: 'string' },
      key: { type: 'string' },
      policy: { type: 'string' },
      surface: { type: 'string' },
      endpoint: { type: 'string' },
      json: { type: 'boolean' },
      config: { type: 'string' },
    },
    EXPLAIN_HELP,
    true,
  );
  if (values.help) {
    process.stdout.write(EXPLAIN_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]!.slice(0, 64)}"`);
  if (values.request === undefined || values.key === undefined)
    throw new UsageError(`policy explain needs --request FILE and --key ID\n\n${EXPLAIN_HELP}`);
  const surface = values.surface ?? 'openai';
  if (surface !== 'openai' && surface !== 'anthropic') throw new UsageError('--surface must be openai or anthropic');
  const endpoint = values.endpoint ?? 'chat';
  if (endpoint !== 'chat' && endpoint !== 'embeddings') throw new UsageError('--endpoint must be chat or embeddings');
  if (surface === 'anthropic' && endpoint === 'embeddings')
    throw new UsageError('the anthropic surface has no embeddings endpoint');
  const requestPath = values.request;
  let body: Buffer;
  try {
    if (statSync(requestPath).size > MAX_REQUEST_FILE_BYTES)
      throw new UsageError(`${requestPath} is larger than ${MAX_REQUEST_FILE_BYTES} bytes`);
    body = readFileSync(requestPath);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${requestPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const keyId = values.key;
  const policyPath = values.policy;
  return withGateway(values.config, async (c) => {
    const key = await c.store.getApiKey(keyId);
    if (key === undefined) {
      process.stderr.write(`no API key with id ${JSON.stringify(keyId.slice(0, 128))}\n`);
      return 1;
    }
    let config: GatewayConfig;
    let policy: string;
    if (policyPath === undefined) {
      const active = await activePolicy(c.store, c.bootstrap, c.fileConfig);
      config = active.config;
      policy = active.version === undefined ? 'active (config file)' : `active (version ${active.version})`;
    } else {
      const candidate = readCandidate(policyPath, c);
      if (candidate === undefined) return 1;
      config = candidate;
      policy = `candidate (${policyPath})`;
    }
    const explanation = await explainRequest({ config, policy, key, body, surface, operation: endpoint });
    process.stdout.write(values.json ? `${JSON.stringify(explanation, null, 2)}\n` : renderExplanation(explanation));
    return 0;
  });
}

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export function renderDryRun(r: DryRunReport, activeName: string, candidate: string): string {
  const s = r.sample;
  const skipped = Object.entries(s.skipped)
    .map(([why, n]) => `${n} ${why.replace(/_/g, ' ')}`)
    .join(', ');
  const out: string[] = [
    `Dry-run of ${candidate} against ${activeName}`,
    `Window ${r.window.since} .. ${r.window.until}: ${s.records} record(s) (most ${s.maxRecords}${s.truncated ? '; the window held more, older ones left out' : ''}), ${s.replayed} replayed${skipped === '' ? '' : `, skipped: ${skipped}`}`,
    `Active replay agrees with the recorded decision for ${r.fidelity.matching} of ${r.fidelity.compared} request(s)`,
    ...(s.assumedUsage === 0
      ? []
      : [
          `${s.assumedUsage} request(s) the candidate lets through reached no provider when recorded: their usage is taken as the prompt estimate`,
        ]),
    '',
    table(
      ['policy', 'allowed', 'refused', 'throttled'],
      [
        ['active', String(r.active.allowed), String(r.active.refused), String(r.active.throttled)],
        ['candidate', String(r.candidate.allowed), String(r.candidate.refused), String(r.candidate.throttled)],
      ],
    ),
    '',
  ];
  if (r.rules.length === 0) {
    out.push(`No request would be decided differently (${r.changed} changed).`);
    return `${out.join('\n')}\n`;
  }
  out.push(`${r.changed} request(s) would be decided, routed or priced differently:`);
  out.push(
    table(
      ['rule', 'stage', 'refused', 'throttled', 'released', 'rerouted', 'repriced', 'cost change'],
      r.rules.map((e) => [
        e.rule,
        e.stage,
        String(e.refused),
        String(e.throttled),
        String(e.released),
        String(e.rerouted),
        String(e.repriced),
        e.repriced === 0 ? '' : `${e.costDeltaMicros < 0 ? '-' : '+'}$${formatMicros(Math.abs(e.costDeltaMicros))}`,
      ]),
    ),
  );
  if (r.keys.length > 0)
    out.push(
      '',
      table(
        ['most affected keys', 'requests'],
        r.keys.map((k) => [k.id, String(k.changed)]),
      ),
    );
  if (r.teams.length > 0)
    out.push(
      '',
      table(
        ['most affected teams', 'requests'],
        r.teams.map((t) => [t.id, String(t.changed)]),
      ),
    );
  return `${out.join('\n')}\n`;
}

export function renderExplanation(e: Explanation): string {
  const out: string[] = [
    `Policy: ${e.policy}`,
    `Key ${e.key}, model ${e.model ?? '(none)'}: ${e.verdict.toUpperCase()}${e.code === null ? '' : ` (${e.code})`}`,
  ];
  if (e.message !== null) out.push(`  ${e.message}`);
  out.push('', 'Stages:');
  for (const s of e.steps)
    out.push(
      `  ${s.stage.padEnd(10)} ${s.result}${s.rule === undefined ? '' : `  rule ${s.rule}`}${s.code === undefined ? '' : `  ${s.code}`}`,
    );
  if (e.target !== null) out.push(`  served by  ${e.target}`);
  out.push('', 'Limits that apply:');
  if (e.applies.limits.length === 0) out.push('  (none)');
  for (const l of e.applies.limits) out.push(`  ${l.policy}: ${l.limit}`);
  out.push('Budgets that apply:');
  if (e.applies.budgets.length === 0) out.push('  (none)');
  for (const b of e.applies.budgets) out.push(`  ${b.name}: $${formatMicros(b.amountMicros)} in ${b.period}`);
  out.push('Route targets:');
  if (e.applies.targets.length === 0) out.push('  (none)');
  for (const t of e.applies.targets) out.push(`  ${t.provider}/${t.model} (priority ${t.priority})`);
  return `${out.join('\n')}\n`;
}
