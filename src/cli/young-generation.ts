/**
 * The gateway's young generation. V8 grows the semi-spaces of its young generation under
 * allocation pressure up to 32 MiB each on a 64-bit machine (64 MiB with the copy space), and
 * keeps them: a gateway that has served one burst holds them for the rest of its life. A
 * request allocates little that survives it, so small semi-spaces cost a few more scavenges and
 * save most of that memory (docs/benchmarks.md has the figures). V8 reads the size when the
 * process starts, so `start` re-runs itself in place (execve: same pid, no second process) with
 * `--max-semi-space-size` unless the operator chose a size (node flag or NODE_OPTIONS).
 */

/** MiB per semi-space for `start`. */
export const START_SEMI_SPACE_MIB = 8;

const FLAG = /(?:^|\s)--max[-_]semi[-_]space[-_]size(?:[=\s]|$)/;

/**
 * The arguments to re-run the current process with, or undefined when it needs no re-run:
 * the size is already set, there is no script to re-run, or the platform has no execve.
 */
export function youngGenerationReexec(p: {
  readonly execArgv: readonly string[];
  readonly argv: readonly string[];
  readonly nodeOptions: string | undefined;
  readonly hasExecve: boolean;
}): string[] | undefined {
  if (!p.hasExecve || p.argv[1] === undefined) return undefined;
  if (p.execArgv.some((a) => FLAG.test(a)) || FLAG.test(p.nodeOptions ?? '')) return undefined;
  return [...p.execArgv, `--max-semi-space-size=${START_SEMI_SPACE_MIB}`, ...p.argv.slice(1)];
}

/** For `start` run by a launcher: replaces the process with one whose young generation is capped. */
export function capYoungGeneration(): void {
  const args = youngGenerationReexec({
    execArgv: process.execArgv,
    argv: process.argv,
    nodeOptions: process.env.NODE_OPTIONS,
    hasExecve: typeof process.execve === 'function',
  });
  if (args === undefined) return;
  // Does not return: the new image starts from main again, with the flag in its execArgv.
  process.execve!(process.execPath, [process.execPath, ...args], process.env);
}
