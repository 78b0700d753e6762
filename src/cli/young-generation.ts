/**
 * Memory settings that must be in place before the process starts, applied by `start`.
 *
 * - V8 grows the semi-spaces of its young generation under allocation pressure up to 32 MiB
 *   each on a 64-bit machine (new space 64–128 MiB) and keeps them: a gateway that has served
 *   one burst holds them for the rest of its life. A request allocates little that survives it,
 *   so small semi-spaces cost a few more scavenges and save most of that memory.
 * - glibc's malloc gives each thread that allocates its own arena (up to 8 per core), and an
 *   arena's freed memory is rarely returned: the main thread, the audit writer's thread (with
 *   `audit.writer: thread`), libuv's pool and SQLite each grow their own. Two arenas serve a process with one busy thread.
 *
 * - Node strips the types of each TypeScript source as it loads it, and the stripper (a
 *   WebAssembly module) stays in memory for the life of the process: about 22 MiB. Node's
 *   module compile cache keeps the stripped code (and V8's code cache) on disk, so a start
 *   that finds every module there never loads the stripper. The cache goes in the project's
 *   own `node_modules/.cache/portcullis-compile` (see compileCacheDir for when it is used);
 *   the first start fills it.
 *
 * - glibc's malloc keeps what a burst freed as fragments inside its heap (half of its 40 MiB
 *   after a load, measured) and returns them only when asked (malloc_trim, which Node does not
 *   call). jemalloc, when the system has it (Debian's libjemalloc2), is preloaded instead, set
 *   to give pages unused for a second back to the system from a background thread
 *   (JEMALLOC_CONF): the memory a burst took goes back by itself, under load and after it.
 *
 * All four are read when the process starts, so `start` re-runs itself in place (execve:
 * same pid, no second process) with `--max-semi-space-size`, `MALLOC_ARENA_MAX`,
 * `NODE_COMPILE_CACHE` and `LD_PRELOAD` + `MALLOC_CONF` when missing. An operator's own value
 * (node flag or NODE_OPTIONS; the environment variables; NODE_DISABLE_COMPILE_CACHE to turn the
 * cache off; any LD_PRELOAD of their own, or PORTCULLIS_MALLOC=system, to keep the C library's
 * allocator) is kept. docs/benchmarks.md has what each saves and costs.
 */
import { lstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** MiB per semi-space for `start`. */
export const START_SEMI_SPACE_MIB = 8;
/** glibc malloc arenas for `start` (other C libraries ignore the variable). */
export const START_MALLOC_ARENA_MAX = '2';

/**
 * jemalloc's settings when `start` preloads it: a background thread returns pages that have
 * been unused for a second (dirty_decay_ms) straight to the system (muzzy_decay_ms 0: no
 * second, lazily-freed stage whose pages still count in RSS); two arenas as for glibc (one
 * busy thread; jemalloc's default is four per core); each thread's cache holds only blocks of
 * up to 4 KiB (the default, 32 KiB, cost about 2.5 MiB at start across the process's dozen
 * threads). docs/benchmarks.md has the measurements.
 */
export const JEMALLOC_CONF = 'background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0,narenas:2,tcache_max:4096';

/** Where Debian, Ubuntu and RPM-based systems install jemalloc's shared library. */
export const JEMALLOC_PATHS: readonly string[] = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
];

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
  /**
   * The allocator library to preload (allocatorPreload), or undefined when there is none to
   * add: none installed, the operator's own LD_PRELOAD, PORTCULLIS_MALLOC=system, or already
   * preloaded by an earlier run.
   */
  readonly preload?: string | undefined;
  /** The operator's MALLOC_CONF, kept when set. */
  readonly mallocConf?: string | undefined;
  readonly hasExecve: boolean;
}): { args: string[]; env: Record<string, string> } | undefined {
  if (!p.hasExecve || p.argv[1] === undefined) return undefined;
  const hasFlag = p.execArgv.some((a) => FLAG.test(a)) || FLAG.test(p.nodeOptions ?? '');
  const hasArenas = p.mallocArenaMax !== undefined;
  if (hasFlag && hasArenas && p.compileCache === undefined && p.preload === undefined) return undefined;
  const env: Record<string, string> = {};
  if (!hasArenas) env.MALLOC_ARENA_MAX = START_MALLOC_ARENA_MAX;
  if (p.compileCache !== undefined) env.NODE_COMPILE_CACHE = p.compileCache;
  if (p.preload !== undefined) {
    env.LD_PRELOAD = p.preload;
    if (p.mallocConf === undefined) env.MALLOC_CONF = JEMALLOC_CONF;
  }
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

/**
 * The jemalloc library for `start` to preload: the first of `paths` that is a regular file
 * owned by root that neither group nor others can write (what is preloaded runs inside the
 * gateway, so a library someone else could replace is not used). Undefined when the operator
 * chose: PORTCULLIS_MALLOC=system, or an LD_PRELOAD of their own (which includes a run that
 * `start` already re-ran with it); and off Linux.
 */
export function allocatorPreload(
  env: NodeJS.ProcessEnv = process.env,
  paths: readonly string[] = JEMALLOC_PATHS,
  platform: NodeJS.Platform = process.platform,
  owner = 0,
): string | undefined {
  if (platform !== 'linux') return undefined;
  if (env.PORTCULLIS_MALLOC === 'system') return undefined;
  if (env.LD_PRELOAD !== undefined && env.LD_PRELOAD.trim() !== '') return undefined;
  for (const path of paths) {
    try {
      const st = statSync(path);
      if (st.isFile() && st.uid === owner && (st.mode & 0o022) === 0) return path;
    } catch {
      // Not installed there.
    }
  }
  return undefined;
}

/** The allocator this process runs with, for the start-up log line: jemalloc when it is mapped. */
export function runningAllocator(maps = '/proc/self/maps'): 'jemalloc' | 'system' {
  try {
    return readFileSync(maps, 'utf8').includes('libjemalloc') ? 'jemalloc' : 'system';
  } catch {
    return 'system';
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
    preload: allocatorPreload(),
    mallocConf: process.env.MALLOC_CONF,
    hasExecve: typeof process.execve === 'function',
  });
  if (r === undefined) return;
  // Does not return: the new image starts from main again, with the settings in place.
  process.execve!(process.execPath, [process.execPath, ...r.args], { ...process.env, ...r.env });
}
