/**
 * `portcullis warm-cache`: compiles every module of the gateway into Node's module compile
 * cache, the folder `start` uses (young-generation.ts: `node_modules/.cache/portcullis-compile`
 * or NODE_COMPILE_CACHE). A process that has to strip the types of even one TypeScript file
 * loads the stripper and keeps it for its whole life (about 20 MiB); `start` fills the cache with
 * what it loads, but modules loaded on first use later (PostgreSQL, Redis, the policy reader
 * and password workers, admin commands) would still be stripped the first time. Warming covers
 * them all, and a container image can do it at build time, so no pod's first process starts cold.
 *
 * Run it with the settings of `start` (the CLI re-runs it in place with them, as it does
 * `start`: V8's flags are part of the cache's key) and as the user the gateway runs as: Node
 * keeps one cache folder per user id.
 *
 * Each module is imported. Worker entry files refuse to run outside a worker thread (they
 * throw when evaluated), which does not matter: a module is cached once it is compiled.
 */
import { readdirSync } from 'node:fs';
import { flushCompileCache, getCompileCacheDir } from 'node:module';
import { join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from './usage-error.ts';

const SRC = resolve(import.meta.dirname, '..');

/** Worker entry files: evaluated outside a worker they throw by design (see above). */
export const WORKER_ENTRIES: readonly string[] = [
  'audit/writer-worker.ts',
  'audit/verify-worker.ts',
  'identity/admin/password-strength-worker.ts',
  'live-policy/compose-worker.ts',
];

/** The gateway's own modules under `src`: every TypeScript file but tests and test helpers. */
export function runtimeModules(src: string = SRC): string[] {
  return (readdirSync(src, { recursive: true, encoding: 'utf8' }) as string[])
    .filter(
      (f) =>
        f.endsWith('.ts') &&
        !f.endsWith('.test.ts') &&
        !f.endsWith('.d.ts') &&
        !f.split(sep).includes('testing') &&
        !f.endsWith('test-support.ts'),
    )
    .map((f) => f.split(sep).join('/'))
    .sort();
}

export async function runWarmCache(args: readonly string[]): Promise<number> {
  if (args.length > 0) throw new UsageError('warm-cache takes no arguments');
  const dir = getCompileCacheDir();
  if (dir === undefined) {
    process.stderr.write(
      'portcullis: no compile cache to warm: NODE_DISABLE_COMPILE_CACHE is set, or the project has no node_modules folder, or node_modules/.cache/portcullis-compile is writable by others or owned by another user\n',
    );
    return 1;
  }
  const modules = runtimeModules();
  const failed: string[] = [];
  for (const file of modules) {
    try {
      await import(pathToFileURL(join(SRC, file)).href);
    } catch (err) {
      if (!WORKER_ENTRIES.includes(file)) failed.push(`${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  flushCompileCache();
  process.stdout.write(`compiled ${modules.length} modules into ${dir}\n`);
  if (failed.length > 0) {
    process.stderr.write(`portcullis: ${failed.length} modules failed to load:\n  ${failed.join('\n  ')}\n`);
    return 1;
  }
  return 0;
}
