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
 * Both are read when the process starts, so `start` re-runs itself in place (execve: same pid,
 * no second process) with `--max-semi-space-size` and `MALLOC_ARENA_MAX` when missing. An
 * operator's own value (node flag or NODE_OPTIONS; the environment variable) is kept.
 * docs/benchmarks.md has what each saves and costs.
 */

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
  readonly hasExecve: boolean;
}): { args: string[]; env: Record<string, string> } | undefined {
  if (!p.hasExecve || p.argv[1] === undefined) return undefined;
  const hasFlag = p.execArgv.some((a) => FLAG.test(a)) || FLAG.test(p.nodeOptions ?? '');
  const hasArenas = p.mallocArenaMax !== undefined;
  if (hasFlag && hasArenas) return undefined;
  return {
    args: [...p.execArgv, ...(hasFlag ? [] : [`--max-semi-space-size=${START_SEMI_SPACE_MIB}`]), ...p.argv.slice(1)],
    env: hasArenas ? {} : { MALLOC_ARENA_MAX: START_MALLOC_ARENA_MAX },
  };
}

/** For `start` run by a launcher: replaces the process with one that has both settings. */
export function capYoungGeneration(): void {
  const r = youngGenerationReexec({
    execArgv: process.execArgv,
    argv: process.argv,
    nodeOptions: process.env.NODE_OPTIONS,
    mallocArenaMax: process.env.MALLOC_ARENA_MAX,
    hasExecve: typeof process.execve === 'function',
  });
  if (r === undefined) return;
  // Does not return: the new image starts from main again, with both set.
  process.execve!(process.execPath, [process.execPath, ...r.args], { ...process.env, ...r.env });
}
