/**
 * `portcullis report usage`: spend and tokens from the request records, aggregated by the
 * store's own SQL (SQLite or PostgreSQL), grouped by tenant, team, key, model, UTC day or prompt API.
 * Reads only; money is printed as exact decimal USD from integer micro-dollars.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import { formatMicros } from '../cost/money.ts';
import type { StoreConfig } from '../store/config-types.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { USAGE_GROUPS, type UsageGroup, type UsageRow } from '../store/usage-records.ts';
import { parseCommandArgs } from './args.ts';
import { runComplianceReport } from './report-compliance.ts';
import { parseReportRange } from './time-range.ts';
import { UsageError } from './usage-error.ts';

export const REPORT_HELP = `Usage: portcullis report usage --from TIME [--to TIME] [options]
       portcullis report compliance --from TIME --to TIME [--format markdown|json] [--output FILE]
                                    (see portcullis report compliance --help)

  Spend and tokens of the requests with from <= time < to, summed by the store (SQLite or
  PostgreSQL). TIME is ISO-8601 with a zone, or a date: 2026-01-31, 2026-01-31T12:00:00Z,
  or one of today, yesterday (the start of that UTC day) and now; --to defaults to now, so
  "--from today" is today so far and "--from yesterday --to today" is all of yesterday.
  Grouped by key, each key's label is shown beside its id; grouped by model, requests that
  named no model show as "(no model: OPERATION)", e.g. "(no model: models)" for model lists.
  Cost is exact decimal USD; requests to models without a price count as "unpriced" (their
  cost is unknown, not zero); "estimated" counts requests whose tokens the gateway counted
  because the provider reported none.

Options:
  --group-by G      tenant, team, key, model, day (UTC) or api (prompt APIs); default tenant
  --format F        table (default), csv or json
  --tenant ID       Only this tenant's requests
  --config FILE     Config file whose store to read (default: $PORTCULLIS_CONFIG,
                    ./portcullis.yaml, or the demo's ./data folder)
  --data-dir DIR    Without a config file: the demo's state folder (default ./data)
`;

const FORMATS = ['table', 'csv', 'json'] as const;
type Format = (typeof FORMATS)[number];

export async function runReport(argv: string[]): Promise<number> {
  if (argv[0] === 'compliance') return runComplianceReport(argv.slice(1));
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'group-by': { type: 'string' },
      format: { type: 'string' },
      tenant: { type: 'string' },
    },
    REPORT_HELP,
    true,
  );
  if (values.help) {
    process.stdout.write(REPORT_HELP);
    return 0;
  }
  const [sub, ...extra] = positionals;
  if (sub !== 'usage') throw new UsageError(`expected "usage" or "compliance"\n\n${REPORT_HELP}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const range = parseReportRange(values.from, values.to);
  if (typeof range === 'string') throw new UsageError(range);
  const groupBy = (values['group-by'] ?? 'tenant') as UsageGroup;
  if (!(USAGE_GROUPS as readonly string[]).includes(groupBy))
    throw new UsageError(
      `--group-by must be one of ${USAGE_GROUPS.join(', ')}, got "${String(values['group-by']).slice(0, 64)}"`,
    );
  const format = (values.format ?? 'table') as Format;
  if (!(FORMATS as readonly string[]).includes(format))
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${String(values.format).slice(0, 64)}"`);
  if (values.tenant !== undefined && (values.tenant === '' || values.tenant.length > 256))
    throw new UsageError('--tenant must be 1..256 characters');

  let storeCfg: StoreConfig;
  try {
    storeCfg = resolveStore(values.config, values['data-dir']);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  const store = await openStore(storeCfg);
  try {
    const rows = await store.summarizeUsage({
      since: range.from.toISOString(),
      until: range.to.toISOString(),
      groupBy,
      ...(values.tenant === undefined ? {} : { tenantId: values.tenant }),
    });
    const labels = groupBy === 'key' ? await keyLabels(store, values.tenant) : undefined;
    process.stdout.write(
      renderUsage(rows, {
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        groupBy,
        format,
        ...(labels ? { labels } : {}),
      }),
    );
    return 0;
  } finally {
    await store.close();
  }
}

/** Key id → label, so a report by key reads as names rather than UUIDs. */
async function keyLabels(
  store: Pick<Store, 'listApiKeys'>,
  tenantId: string | undefined,
): Promise<Map<string, string>> {
  const keys = await store.listApiKeys(tenantId === undefined ? {} : { tenantId });
  return new Map(keys.map((k) => [k.id, k.label]));
}

function resolveStore(configFlag: string | undefined, dataDirFlag: string | undefined): StoreConfig {
  const configPath =
    configFlag ??
    process.env.PORTCULLIS_CONFIG ??
    (existsSync('portcullis.yaml') && dataDirFlag === undefined ? 'portcullis.yaml' : undefined);
  if (configPath !== undefined) {
    if (dataDirFlag !== undefined) throw new UsageError('use either --config or --data-dir, not both');
    return loadConfig(configPath).store;
  }
  return { driver: 'sqlite', path: join(resolve(dataDirFlag ?? 'data'), 'portcullis.db') };
}

const COLUMNS = [
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'cache_write_tokens',
  'total_tokens',
  'cost_usd',
  'unpriced',
  'estimated',
] as const;

function cells(r: UsageRow): string[] {
  return [
    String(r.requests),
    String(r.promptTokens),
    String(r.completionTokens),
    String(r.cachedTokens),
    String(r.cacheWriteTokens),
    String(r.totalTokens),
    formatMicros(r.costMicros),
    String(r.unpricedRequests),
    String(r.estimatedRequests),
  ];
}

function total(rows: readonly UsageRow[]): UsageRow {
  const sum = (f: (r: UsageRow) => number): number => rows.reduce((a, r) => a + f(r), 0);
  return {
    group: 'TOTAL',
    requests: sum((r) => r.requests),
    promptTokens: sum((r) => r.promptTokens),
    completionTokens: sum((r) => r.completionTokens),
    cachedTokens: sum((r) => r.cachedTokens),
    cacheWriteTokens: sum((r) => r.cacheWriteTokens),
    totalTokens: sum((r) => r.totalTokens),
    costMicros: Number(rows.reduce((a, r) => a + BigInt(r.costMicros), 0n)),
    unpricedRequests: sum((r) => r.unpricedRequests),
    estimatedRequests: sum((r) => r.estimatedRequests),
  };
}

export interface UsageMeta {
  readonly from: string;
  readonly to: string;
  readonly groupBy: UsageGroup;
  readonly format: Format;
  /** With --group-by key: each key's label, shown in a column beside the id. */
  readonly labels?: ReadonlyMap<string, string>;
}

export function renderUsage(rows: readonly UsageRow[], meta: UsageMeta): string {
  const t = total(rows);
  const labels = meta.labels;
  // A key that was deleted since has no label left; a row without a key has none to show.
  const labelOf = (r: UsageRow): string => (r.group === null ? '' : (labels?.get(r.group) ?? '(unknown key)'));
  if (meta.format === 'json') {
    const view = (r: UsageRow): Record<string, unknown> => ({
      [meta.groupBy]: r.group,
      ...(labels !== undefined && r !== t ? { label: r.group === null ? null : labelOf(r) } : {}),
      requests: r.requests,
      promptTokens: r.promptTokens,
      completionTokens: r.completionTokens,
      cachedTokens: r.cachedTokens,
      cacheWriteTokens: r.cacheWriteTokens,
      totalTokens: r.totalTokens,
      costUsd: formatMicros(r.costMicros),
      costMicros: r.costMicros,
      unpricedRequests: r.unpricedRequests,
      estimatedRequests: r.estimatedRequests,
    });
    const { [meta.groupBy]: _g, ...totals } = view(t);
    return `${JSON.stringify({ from: meta.from, to: meta.to, groupBy: meta.groupBy, rows: rows.map(view), total: totals }, null, 2)}\n`;
  }
  const lead = (r: UsageRow, none: string): string[] =>
    labels === undefined ? [r.group ?? none] : [r.group ?? none, labelOf(r)];
  const header = labels === undefined ? [meta.groupBy, ...COLUMNS] : [meta.groupBy, 'label', ...COLUMNS];
  const body = rows.map((r) => [...lead(r, '(none)'), ...cells(r)]);
  if (meta.format === 'csv') {
    return `${[header, ...rows.map((r) => [...lead(r, ''), ...cells(r)])]
      .map((line) => line.map(csvCell).join(','))
      .join('\r\n')}\r\n`;
  }
  const all = [header, ...body, [...(labels === undefined ? ['TOTAL'] : ['TOTAL', '']), ...cells(t)]];
  const text = labels === undefined ? 1 : 2;
  const widths = header.map((_, i) => Math.max(...all.map((line) => printable(line[i]!).length)));
  const fmt = (line: string[]) =>
    line
      .map((c, i) => (i < text ? printable(c).padEnd(widths[i]!) : printable(c).padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[fmt(header), ...body.map(fmt), fmt(all[all.length - 1]!)].join('\n')}\n`;
}

/** Group values come from clients (model names, subjects): no control characters on a terminal. */
function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** RFC 4180 quoting, and a leading quote so a spreadsheet never runs a value as a formula. */
function csvCell(s: string): string {
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
