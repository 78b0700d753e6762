/** `portcullis config check <file>`: validate without starting, print a summary or every problem. */
import { describeTarget } from '../store/postgres/connection.ts';
import { ConfigError } from './errors.ts';
import { loadConfig } from './load.ts';
import type { StoreConfig } from './types.ts';

export function checkConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): { ok: boolean; text: string } {
  try {
    const cfg = loadConfig(path, env);
    const targets = [...cfg.models.values()].reduce((n, m) => n + m.targets.length, 0);
    const list = (names: Iterable<string>): string => {
      const all = [...names];
      return all.length === 0 ? '' : ` (${all.join(', ')})`;
    };
    const text = [
      `Config OK: ${cfg.source}`,
      `  listen:    ${cfg.server.host}:${cfg.server.port}`,
      `  store:     ${describeStore(cfg.store)}`,
      `  providers: ${cfg.providers.size}${list(cfg.providers.keys())}`,
      `  models:    ${cfg.models.size}${list(cfg.models.keys())}`,
      `  targets:   ${targets}`,
      `  metrics:   ${cfg.metrics.enabled ? `${cfg.metrics.host}:${cfg.metrics.port}${cfg.metrics.bearerToken === undefined ? '' : ' (bearer token)'}` : 'off'}`,
      `  auth:      api keys ${cfg.auth.apiKeys.enabled ? 'on' : 'off'}, JWT issuers ${cfg.auth.jwt.issuers.length}${list(cfg.auth.jwt.issuers.map((i) => i.issuer))}`,
    ].join('\n');
    return { ok: true, text };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, text: err.message };
    throw err;
  }
}

/** The URL may hold a password: only user, host, port and database are shown. */
function describeStore(store: StoreConfig): string {
  if (store.driver === 'sqlite') return `sqlite ${store.path}`;
  return `postgres ${describeTarget(store.url)} (schema ${store.schema ?? 'public'}, pool ${store.poolSize})`;
}
