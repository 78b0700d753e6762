/**
 * `portcullis report compliance`: an evidence report mapping live facts (config, store, audit
 * log) to SOC 2 / ISO 27001 / GDPR controls, as Markdown or JSON. Generating it is itself an
 * audit record (`report.compliance`), since an export of who-has-what is security-relevant.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { GATEWAY_VERSION } from '../app/version.ts';
import { parseExportRange } from '../audit/export.ts';
import { cliActor } from '../audit/key-events.ts';
import { openConfiguredAuditLog } from '../audit/open.ts';
import { collectComplianceFacts } from '../compliance/collect.ts';
import { evaluateControls } from '../compliance/controls.ts';
import { buildReport, renderJson, renderMarkdown } from '../compliance/render.ts';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import type { GatewayConfig } from '../config/types.ts';
import type { MockUpstream } from '../mock-upstream/index.ts';
import { openStore } from '../store/open.ts';
import { parseCommandArgs } from './args.ts';
import { demoConfig } from './demo.ts';
import { UsageError } from './usage-error.ts';

export const COMPLIANCE_HELP = `Usage: portcullis report compliance --from TIME --to TIME [options]

  An evidence report for SOC 2, ISO 27001 and GDPR reviews, computed from the live
  configuration, the store and the audit log (never typed in): who has which admin role, MFA
  coverage, keys without expiry or unused for 90 days, TLS settings, encryption at rest, the
  audit chain's verification, security events in the period and how they were handled,
  retention settings, abuse limits. Each control is MET, PARTIAL, NOT MET or INFO, with the
  facts behind the verdict. TIME is ISO-8601 with a zone, or a date (2026-01-31).
  Exit 0 when written (whatever the verdicts), 1 when the store or audit log cannot be read,
  2 on bad usage.

Options:
  --format F        markdown (default) or json
  --output FILE     Write to FILE (created 0600) instead of stdout
  --config FILE     Config file (default: $PORTCULLIS_CONFIG, ./portcullis.yaml, or the
                    demo's ./data folder)
  --data-dir DIR    Without a config file: the demo's state folder (default ./data)
`;

const FORMATS = ['markdown', 'json'] as const;

export async function runComplianceReport(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string' },
      output: { type: 'string' },
    },
    COMPLIANCE_HELP,
    true,
  );
  if (values.help) {
    process.stdout.write(COMPLIANCE_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const range = parseExportRange(values.from, values.to);
  if (typeof range === 'string') throw new UsageError(range);
  const format = values.format ?? 'markdown';
  if (!(FORMATS as readonly string[]).includes(format))
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${format.slice(0, 64)}"`);
  let config: GatewayConfig;
  try {
    config = resolveConfig(values.config, values['data-dir']);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  const store = await openStore(config.store);
  let text: string;
  try {
    const facts = await collectComplianceFacts({
      config,
      store,
      from: range.from,
      to: range.to,
      version: GATEWAY_VERSION,
    });
    const report = buildReport(facts, evaluateControls(facts));
    text = format === 'json' ? renderJson(report) : renderMarkdown(report);
  } finally {
    await store.close();
  }
  const audit = await openConfiguredAuditLog(config.audit, config.security.dataDir);
  try {
    await audit.append({
      actor: cliActor(),
      action: 'report.compliance',
      target: null,
      decision: 'allowed',
      reason: null,
      requestId: null,
      metadata: { from: range.from.toISOString(), to: range.to.toISOString(), format },
    });
  } finally {
    await audit.close();
  }
  if (values.output === undefined) process.stdout.write(text);
  else writeFileSync(resolve(values.output), text, { mode: 0o600 });
  return 0;
}

function resolveConfig(configFlag: string | undefined, dataDirFlag: string | undefined): GatewayConfig {
  const configPath =
    configFlag ??
    process.env.PORTCULLIS_CONFIG ??
    (existsSync('portcullis.yaml') && dataDirFlag === undefined ? 'portcullis.yaml' : undefined);
  if (configPath !== undefined) {
    if (dataDirFlag !== undefined) throw new UsageError('use either --config or --data-dir, not both');
    return loadConfig(configPath);
  }
  // The demo has no file: its config is rebuilt; the emulator's address does not matter here.
  const emulator = { baseUrl: (p: string) => `http://127.0.0.1:1/${p}` } as unknown as MockUpstream;
  return demoConfig(emulator, { host: '127.0.0.1', port: 8080, dataDir: dataDirFlag ?? 'data' });
}
