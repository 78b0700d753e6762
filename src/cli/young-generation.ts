/**
 * Memory settings that must be in place before the process starts, applied by `start`.
 *
 * - V8 grows the semi-spaces of its young generation under allocation pressure up to 32 MiB
 *   each on a 64-bit machine (new space 64–128 MiB) and keeps them: a gateway that has served
 *   one burst holds them for the rest of its life. A request allocates little that survives it,
 *   so small semi-spaces cost a few more scavenges and save most of that memory.
 * - glibc's malloc gives each thread that allocates its own arena (up to 8 per core), and an
 *   arena's freed memory is rarely returned: the main thread, the audit writer, libuv's pool and
 *   SQLite each grow their own. Two arenas serve a process with one busy thread.
 *
 * - Node strips the types of each TypeScript source as it loads it, and the stripper (a
 *   WebAssembly module) stays in memory for the life of the process: about 22 MiB. Node's
 *   module compile cache keeps the stripped code (and V8's code cache) on disk, so a start
 *   that finds every module there never loads the stripper. The cache goes in the project's
 *   own `node_modules/.cache/portcullis-compile` (see compileCacheDir for when it is used);
 *   the first start fills it.
 *
 * All three are read when the process starts, so `start` re-runs itself in place (execve:
 * same pid, no second process) with `--max-semi-space-size`, `MALLOC_ARENA_MAX` and
 * `NODE_COMPILE_CACHE` when missing. An operator's own value (node flag or NODE_OPTIONS; the
 * environment variables; NODE_DISABLE_COMPILE_CACHE to turn the cache off) is kept.
 * docs/benchmarks.md has what each saves and costs.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** MiB per semi-space for `start`. */
export const START_SEMI_SPACE_MIB = 8;
/** glibc malloc arenas for `start` (other C libraries ignore the variable). */
export const START_MALLOC_ARENA_MAX = '2';

const FLAG = /(?:^|\s)--max[-_]semi[-_]space[-_]size(?:[=\s]|$)/;

/**
 * The arguments and environment to re-run the current process with, or undefined when it
 * needs no re-run: both are already set, there is no script to re-run, or the platform has no
 * execve.
 */
export function youngGenerationReexec(p: {
  readonly execArgv: readonly string[];
  readonly argv: readonly string[];
  readonly nodeOptions: string | undefined;
  readonly mallocArenaMax?: string | undefined;
  /**
   * The compile cache folder to add (compileCacheDir), or undefined when there is none to
   * add: the operator set NODE_COMPILE_CACHE or NODE_DISABLE_COMPILE_CACHE, or no safe folder.
   */
  readonly compileCache?: string | undefined;
  readonly hasExecve: boolean;
}): { args: string[]; env: Record<string, string> } | undefined {
  if (!p.hasExecve || p.argv[1] === undefined) return undefined;
  const hasFlag = p.execArgv.some((a) => FLAG.test(a)) || FLAG.test(p.nodeOptions ?? '');
  const hasArenas = p.mallocArenaMax !== undefined;
  if (hasFlag && hasArenas && p.compileCache === undefined) return undefined;
  const env: Record<string, string> = {};
  if (!hasArenas) env.MALLOC_ARENA_MAX = START_MALLOC_ARENA_MAX;
  if (p.compileCache !== undefined) env.NODE_COMPILE_CACHE = p.compileCache;
  return {
    args: [...p.execArgv, ...(hasFlag ? [] : [`--max-semi-space-size=${START_SEMI_SPACE_MIB}`]), ...p.argv.slice(1)],
    env,
  };
}

/** The project folder (this file is src/cli/young-generation.ts). */
const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');

/**
 * The compile cache folder for `start`: `node_modules/.cache/portcullis-compile` in the
 * project, created (mode 0700) when missing. Cached code runs as the gateway's own code, so
 * the folder is used only when nobody else can write to it: a directory (not a link) owned by
 * this user or by root (an image that filled it at build time), with no write permission for
 * group or others. Whoever can write there can already change node_modules. Undefined when
 * the operator chose (NODE_COMPILE_CACHE, NODE_DISABLE_COMPILE_CACHE), when the project has no
 * node_modules folder, or when the folder fails those checks: the gateway then runs without
 * the cache, as before.
 */
export function compileCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  root: string = PROJECT_ROOT,
  uid: number | undefined = process.getuid?.(),
): string | undefined {
  if (env.NODE_COMPILE_CACHE !== undefined || env.NODE_DISABLE_COMPILE_CACHE !== undefined) return undefined;
  const modules = join(root, 'node_modules');
  try {
    if (!lstatSync(modules).isDirectory()) return undefined;
    const dir = join(modules, '.cache', 'portcullis-compile');
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch {
      // A read-only install: use the folder if it exists and passes the checks below.
    }
    const st = lstatSync(dir);
    if (!st.isDirectory()) return undefined;
    if (uid !== undefined && st.uid !== uid && st.uid !== 0) return undefined;
    if ((st.mode & 0o022) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/** For `start` run by a launcher: replaces the process with one that has the settings above. */
export function capYoungGeneration(): void {
  const r = youngGenerationReexec({
    execArgv: process.execArgv,
    argv: process.argv,
    nodeOptions: process.env.NODE_OPTIONS,
    mallocArenaMax: process.env.MALLOC_ARENA_MAX,
    compileCache: compileCacheDir(),
    hasExecve: typeof process.execve === 'function',
  });
  if (r === undefined) return;
  // Does not return: the new image starts from main again, with the settings in place.
  process.execve!(process.execPath, [process.execPath, ...r.args], { ...process.env, ...r.env });
}
