/**
 * The `alerts` section: webhooks that receive security events, signed with a per-webhook
 * secret. A webhook URL on a loopback, private or link-local address (or `localhost`) is
 * refused here unless the webhook sets `allow_private_network: true`; names that resolve to
 * such addresses are refused again at send time (src/alerts/webhook-sender.ts).
 */
import { join, resolve } from 'node:path';
import { keysOf } from '../config/keys.ts';
import { outboundUrlProblems } from '../config/network-checks.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import { resolveSecretReference, type SecretContext } from '../config/secrets.ts';
import { THREAT_SEVERITIES } from '../threats/config.ts';
import type { ThreatSeverity } from '../threats/config-types.ts';
import { ALERTS_SPEC, WEBHOOK_SPEC } from './config.keys.ts';
import type { AlertsConfig, WebhookConfig } from './config-types.ts';

const KEYS = keysOf(ALERTS_SPEC);
const WEBHOOK_KEYS = keysOf(WEBHOOK_SPEC);
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** `*`, an exact type (`auth.lockout`) or a prefix pattern (`threat.*`). */
const EVENT_PATTERN = /^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$/;
const MIN_SECRET_CHARS = 16;
const MAX_WEBHOOKS = 20;
export const DEAD_LETTER_FILE = 'alerts-dead-letters.jsonl';

export function defaultAlertsConfig(dataDir: string): AlertsConfig {
  return {
    webhooks: [],
    maxAttempts: 6,
    retryBaseMs: 1000,
    retryMaxMs: 60_000,
    timeoutMs: 5000,
    queueSize: 1000,
    deadLetterPath: join(dataDir, DEAD_LETTER_FILE),
  };
}

export function readAlerts(
  r: ConfigReader,
  at: Located,
  baseDir: string,
  dataDir: string,
  secrets: SecretContext,
): AlertsConfig {
  const d = defaultAlertsConfig(dataDir);
  const m = r.entries(at, KEYS);
  const f = (key: (typeof KEYS)[number]): Located => r.field(m, at, key);
  const webhooks: WebhookConfig[] = [];
  const items = r.items(f('webhooks')) ?? [];
  if (items.length > MAX_WEBHOOKS) r.report(f('webhooks'), `at most ${MAX_WEBHOOKS} webhooks`);
  const seen = new Set<string>();
  for (const item of items) {
    const hook = readWebhook(r, item, secrets);
    if (hook === undefined) continue;
    if (seen.has(hook.id)) r.report(item, `duplicate webhook id '${hook.id}'`);
    seen.add(hook.id);
    webhooks.push(hook);
  }
  const retryBaseMs = r.int(f('retry_base_ms'), { min: 1, max: 600_000, default: d.retryBaseMs }) ?? d.retryBaseMs;
  const retryMaxMs = r.int(f('retry_max_ms'), { min: 1, max: 86_400_000, default: d.retryMaxMs }) ?? d.retryMaxMs;
  if (retryMaxMs < retryBaseMs) r.report(f('retry_max_ms'), `must be at least retry_base_ms (${retryBaseMs})`);
  let deadLetterPath = d.deadLetterPath;
  const dlAt = f('dead_letter_path');
  if (dlAt.node !== null) {
    const p = r.str(dlAt);
    if (p !== undefined && (p === '' || p.includes('\u0000'))) r.report(dlAt, 'expected a non-empty file path');
    else if (p !== undefined) deadLetterPath = resolve(baseDir, p);
  }
  return {
    webhooks,
    maxAttempts: r.int(f('max_attempts'), { min: 1, max: 50, default: d.maxAttempts }) ?? d.maxAttempts,
    retryBaseMs,
    retryMaxMs,
    timeoutMs: r.int(f('timeout_ms'), { min: 100, max: 120_000, default: d.timeoutMs }) ?? d.timeoutMs,
    queueSize: r.int(f('queue_size'), { min: 1, max: 1_000_000, default: d.queueSize }) ?? d.queueSize,
    deadLetterPath,
  };
}

function readWebhook(r: ConfigReader, at: Located, secrets: SecretContext): WebhookConfig | undefined {
  const m = r.entries(at, WEBHOOK_KEYS);
  if (m === undefined) return undefined;
  const f = (key: (typeof WEBHOOK_KEYS)[number]): Located => r.field(m, at, key);
  const id = r.str(f('id'));
  if (id !== undefined && !ID.test(id))
    r.report(f('id'), 'expected 1-64 letters, digits, _ or - (starting with a letter or digit)');
  const allowPrivateNetwork = r.bool(f('allow_private_network'), false) ?? false;
  const urlText = r.str(f('url'));
  const url = urlText === undefined ? undefined : checkWebhookUrl(r, f('url'), urlText, allowPrivateNetwork);
  let secret: string | undefined;
  const secretText = r.rawStr(f('secret'));
  if (secretText !== undefined) {
    const res = resolveSecretReference(secretText, secrets);
    if (!res.ok) r.report(f('secret'), res.error);
    else if (res.value.length < MIN_SECRET_CHARS)
      r.report(f('secret'), `the referenced secret is shorter than ${MIN_SECRET_CHARS} characters`);
    else secret = res.value;
  }
  const minSeverity = r.oneOf(f('min_severity'), THREAT_SEVERITIES, 'warning');
  const events = readEvents(r, f('events'));
  if (
    id === undefined ||
    url === undefined ||
    secret === undefined ||
    minSeverity === undefined ||
    events === undefined
  )
    return undefined;
  return { id, url, secret, minSeverity: minSeverity as ThreatSeverity, events, allowPrivateNetwork };
}

function readEvents(r: ConfigReader, at: Located): string[] | undefined {
  if (at.node === null) return ['threat.*'];
  const items = r.items(at);
  if (items === undefined) return undefined;
  if (items.length === 0) {
    r.report(at, 'expected at least one event pattern (e.g. "threat.*" or "*")');
    return undefined;
  }
  const out: string[] = [];
  let ok = true;
  for (const item of items) {
    const p = r.str(item);
    if (p === undefined) ok = false;
    else if (!EVENT_PATTERN.test(p)) {
      r.report(item, 'expected "*", an event type such as auth.lockout, or a prefix pattern such as threat.*');
      ok = false;
    } else out.push(p);
  }
  return ok ? out : undefined;
}

/** The URL (unchanged), or undefined after reporting why it is refused. */
export function checkWebhookUrl(
  r: ConfigReader,
  at: Located,
  text: string,
  allowPrivateNetwork: boolean,
): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    r.report(at, 'expected an absolute https URL');
    return undefined;
  }
  const problems = outboundUrlProblems(url, text, allowPrivateNetwork, ' (the signature authenticates the sender)');
  for (const p of problems) r.report(at, p);
  return problems.length === 0 ? url.href : undefined;
}
