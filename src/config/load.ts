/**
 * Reads, validates and resolves the YAML config into the frozen `GatewayConfig`. Every problem
 * in the file is collected and thrown together as one `ConfigError`; nothing is clamped or
 * silently corrected.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Document, isMap, isScalar, LineCounter, type Node, parseDocument, type YAMLError } from 'yaml';
import { readAdmin } from '../admin/config.ts';
import { readAlerts } from '../alerts/config.ts';
import { readAudit } from '../audit/config.ts';
import { readPricing } from '../cost/config.ts';
import { readSecurity } from '../crypto/config.ts';
import { tenantKeysStoreProblem } from '../crypto/vault/config.ts';
import { readGuardrails } from '../guard/config.ts';
import { readAuth } from '../identity/config.ts';
import { readOAuthServer } from '../identity/oauth/config.ts';
import { readBudgets } from '../limits/budgets/config.ts';
import { readLimits } from '../limits/config.ts';
import { readRedisSection } from '../limits/redis/config.ts';
import { readLogging } from '../observability/logging-config.ts';
import { readMetrics } from '../observability/metrics/config.ts';
import { readTracing } from '../observability/trace/config.ts';
import { readPayloadLog } from '../payload-log/config.ts';
import { readPolicyConfig } from '../policy/config.ts';
import { readProviders } from '../providers/config.ts';
import { readModels } from '../providers/models-config.ts';
import { readServer } from '../server/config.ts';
import { readPayload } from '../stages/validate/config.ts';
import { readStore } from '../store/config.ts';
import { readThreatDetection } from '../threats/config.ts';
import { deepFreeze } from './deep-freeze.ts';
import { ConfigError, type ConfigProblem } from './errors.ts';
import { configSections } from './keys.ts';
import { ConfigReader, type Located } from './reader.ts';
import type { GatewayConfig } from './types.ts';

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
// Anchors/aliases are handy for shared retry blocks; a cap stops "billion laughs" expansion.
const MAX_ALIAS_COUNT = 200;
const MAX_SYNTAX_ERRORS = 5;

export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const full = resolve(path);
  return parseConfig(readConfigText(full), full, env, dirname(full));
}

/** The text of a config (or policy) file: a regular file of at most 4 MiB, read as UTF-8. */
export function readConfigText(full: string): string {
  try {
    const st = statSync(full);
    if (!st.isFile()) throw new ConfigError(full, [{ path: '', message: 'not a regular file' }]);
    if (st.size > MAX_CONFIG_BYTES)
      throw new ConfigError(full, [{ path: '', message: `larger than ${MAX_CONFIG_BYTES} bytes` }]);
    return readFileSync(full, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(full, [{ path: '', message: `cannot read the config file (${code})` }]);
  }
}

export function parseConfig(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
  baseDir?: string,
): GatewayConfig {
  const dir = baseDir ?? (source.startsWith('<') ? process.cwd() : dirname(resolve(source)));
  const { doc, lines } = parseConfigText(text, source);
  return readConfigDocument(doc, lines, source, env, dir);
}

/**
 * YAML (or JSON) text → a document with positions. Syntax errors (the first few, quoted source
 * text removed) and alias bombs are thrown as one ConfigError; the document is not yet read.
 */
export function parseConfigText(text: string, source: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  // prettyErrors off: the pretty form quotes the source line, which could hold a pasted secret.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntax = syntaxProblems(doc.errors, text, lines);
  if (syntax.length > 0) throw new ConfigError(source, syntax);
  try {
    doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch {
    throw new ConfigError(source, [
      { path: '', message: `too many YAML alias expansions (more than ${MAX_ALIAS_COUNT})` },
    ]);
  }
  return { doc, lines };
}

/** Plain data of a parsed document (maps as objects), with the same alias cap as parsing. */
export function documentData(doc: Document): unknown {
  return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
}

/**
 * Runs every section's reader over a parsed document: what parseConfig does after parsing, and
 * what the policy document code (src/live-policy/document.ts) calls on a document it composed from
 * the bootstrap part and a policy version. Problems carry positions from `lines`.
 */
export function readConfigDocument(
  doc: Document,
  lines: LineCounter,
  source: string,
  env: NodeJS.ProcessEnv,
  dir: string,
): GatewayConfig {
  const r = new ConfigReader(doc, lines);
  const root: Located = { node: (doc.contents as Node | null) ?? null, path: '', anchor: null };
  if (root.node === null)
    throw new ConfigError(source, [{ path: '', message: 'the file is empty (expected a map of settings)' }]);
  // The top-level keys are the sections the readers declare (keys.ts registry).
  const m = r.entries(
    root,
    configSections().map(([name]) => name),
  );
  const f = (key: string): Located => r.field(m, root, key);
  const secrets = { env, baseDir: dir };

  const server = readServer(r, f('server'), dir);
  const store = readStore(r, f('store'), dir, secrets);
  const security = readSecurity(r, f('security'), dir, secrets);
  if (
    store.driver === 'postgres' &&
    security.keyHashSecret === undefined &&
    !r.problems.some((p) => p.path === 'security.key_hash_secret')
  ) {
    // A secret generated into one instance's data_dir would make keys valid on that instance only.
    r.report(
      r.field(undefined, f('security'), 'key_hash_secret'),
      'is required with store.driver postgres (every instance must hash API keys with the same secret)',
    );
  }
  const vaultProblem = tenantKeysStoreProblem(security.tenantKeys, store);
  if (vaultProblem !== undefined) {
    const tkAt = r.field(undefined, r.field(undefined, f('security'), 'tenant_keys'), vaultProblem[0]);
    r.report(tkAt, vaultProblem[1]);
  }
  const logging = readLogging(r, f('logging'));
  const payload = readPayload(r, f('payload'));
  const payloadLog = readPayloadLog(r, f('payload_log'));
  const providers = readProviders(r, f('providers'), secrets);
  const models = readModels(r, f('models'), providers);
  const auth = readAuth(r, f('auth'), oauthServerRequested(f('oauth_server').node), server.tls?.clientAuth ?? 'none');
  const oauthServer = readOAuthServer(r, f('oauth_server'), auth.jwt.issuers);
  const metrics = readMetrics(r, f('metrics'), secrets, server.port);
  const tracing = readTracing(r, f('tracing'), secrets);
  const audit = readAudit(r, f('audit'), dir, security.dataDir, secrets, store);
  const sharedRedis = readRedisSection(r, f('redis'), secrets);
  const limits = readLimits(r, f('limits'), secrets, sharedRedis);
  // The older form (limits.redis) doubles as the shared connection when there is no redis section.
  const redis = sharedRedis ?? limits.redis;
  const threatDetection = readThreatDetection(r, f('threat_detection'));
  const alerts = readAlerts(r, f('alerts'), dir, security.dataDir, secrets);
  const pricing = readPricing(r, f('pricing'), providers);
  const budgets = readBudgets(r, f('budgets'), redis);
  const admin = readAdmin(r, f('admin'), server);
  const providerKeys = [...providers.values()]
    .map((p) => p.apiKey)
    .filter((k): k is string => k !== undefined && k.length > 0);
  const guardrails = readGuardrails(r, f('guardrails'), models, providerKeys);
  const policy = readPolicyConfig(r, f('policy'));
  if (r.problems.length > 0) throw new ConfigError(source, r.settledProblems());
  return deepFreeze({
    source,
    server,
    ...(admin !== undefined ? { admin } : {}),
    store,
    security,
    logging,
    payload,
    payloadLog,
    providers,
    models,
    auth,
    metrics,
    tracing,
    audit,
    limits,
    redis,
    ...(oauthServer !== undefined ? { oauthServer } : {}),
    threatDetection,
    alerts,
    pricing,
    budgets,
    guardrails,
    policy,
  });
}

/** The first few parser errors (one slip cascades into dozens), with quoted source text removed. */
function syntaxProblems(errors: readonly YAMLError[], text: string, lines: LineCounter): ConfigProblem[] {
  const hinted = new Set<number>();
  return errors.slice(0, MAX_SYNTAX_ERRORS).map((e) => {
    const pos = lines.linePos(e.pos[0]);
    // The parser quotes offending source text, which may be a pasted secret.
    let message = `YAML syntax: ${e.message.replace(/"(?:[^"\\]|\\.)*"/g, '(text omitted)')}`;
    // `{ api_key: ${KEY} }` is the classic slip: a brace inside a flow map ends the plain scalar.
    if (!hinted.has(pos.line) && sourceLine(text, lines, pos.line).includes('${')) {
      hinted.add(pos.line);
      message += ' (hint: quote ${…} references, e.g. api_key: "${KEY}")';
    }
    return { path: '', line: pos.line, column: pos.col, message };
  });
}

function sourceLine(text: string, lines: LineCounter, line: number): string {
  const start = lines.lineStarts[line - 1] ?? 0;
  const end = lines.lineStarts[line] ?? text.length;
  return text.slice(start, end);
}

/** A present `oauth_server` map without `enabled: false` (it is validated in full by readOAuthServer). */
function oauthServerRequested(node: Node | null): boolean {
  if (!isMap(node)) return false;
  const enabled = node.get('enabled', true);
  return !(isScalar(enabled) && enabled.value === false);
}
