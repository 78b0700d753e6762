/**
 * Where a dry-run's two policies and its window come from: the active policy (the store's
 * active version composed with the bootstrap, or the config file's own policy when no version
 * is stored yet), a candidate document (read with every feature's reader against the same
 * bootstrap), and the window (`24h` back from now, or an ISO-8601 time; at most 31 days).
 */
import { parseDurationS } from '../config/duration.ts';
import type { GatewayConfig } from '../config/types.ts';
import type { PolicyStore } from '../policy/contract.ts';
import { type Bootstrap, composeConfig, readPolicyDocument } from './document.ts';

export const MAX_WINDOW_MS = 31 * 86_400_000;

export interface ActivePolicy {
  readonly config: GatewayConfig;
  /** The store's active version; undefined: the config file's policy (no version stored yet). */
  readonly version: number | undefined;
}

export async function activePolicy(
  store: Pick<PolicyStore, 'activePolicyVersion'>,
  bootstrap: Bootstrap,
  fileConfig: GatewayConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ActivePolicy> {
  const active = await store.activePolicyVersion();
  if (active === undefined) return { config: fileConfig, version: undefined };
  return {
    config: composeConfig(bootstrap, active.document, env, `policy version ${active.number}`),
    version: active.number,
  };
}

/** The candidate's full config; throws ConfigError naming every problem of the document. */
export function candidatePolicy(
  text: string,
  source: string,
  bootstrap: Bootstrap,
  env: NodeJS.ProcessEnv = process.env,
): GatewayConfig {
  return readPolicyDocument(text, source, bootstrap, env).config;
}

/** `since` (a duration back from `until`, or an ISO-8601 time) and `until` (ISO-8601, default now); a string says what is wrong. */
export function parseWindow(
  since: string | undefined,
  until: string | undefined,
  now: Date = new Date(),
): { since: string; until: string } | string {
  const untilMs = until === undefined ? now.getTime() : Date.parse(until);
  if (!Number.isFinite(untilMs)) return 'until must be an ISO-8601 time';
  let sinceMs: number;
  const text = since ?? '24h';
  const seconds = parseDurationS(text);
  if (seconds !== undefined) sinceMs = untilMs - seconds * 1000;
  else {
    sinceMs = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
    if (!Number.isFinite(sinceMs)) return 'since must be a duration (e.g. 30m, 24h, 7d) or an ISO-8601 time';
  }
  if (sinceMs >= untilMs) return 'since must be before until';
  if (untilMs - sinceMs > MAX_WINDOW_MS) return 'the window may span at most 31 days';
  return { since: new Date(sinceMs).toISOString(), until: new Date(untilMs).toISOString() };
}
