/** `portcullis config check <file>`: validate without starting, print a summary or every problem. */
import { ConfigError } from './errors.ts';
import { loadConfig } from './load.ts';

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
      `  store:     ${cfg.store.driver} ${cfg.store.path}`,
      `  providers: ${cfg.providers.size}${list(cfg.providers.keys())}`,
      `  models:    ${cfg.models.size}${list(cfg.models.keys())}`,
      `  targets:   ${targets}`,
    ].join('\n');
    return { ok: true, text };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, text: err.message };
    throw err;
  }
}
