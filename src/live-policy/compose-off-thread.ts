/**
 * Validating and composing a policy document runs every config reader over it: about half a
 * second of CPU for 1,000 rules. On the thread that serves requests that would be half a second
 * of added latency for every request in flight, on every instance, at every apply. So it runs on
 * a worker thread; only the result (the composed config, cloned across) comes back, and is
 * frozen again here like any config; an invalid document comes back as the same ConfigError.
 * The admin API and CLI operations (service.ts), SIGHUP (live.ts) and sync (sync.ts) all read
 * documents here.
 */
import { Worker } from 'node:worker_threads';
import { deepFreeze } from '../config/deep-freeze.ts';
import { ConfigError, type ConfigProblem } from '../config/errors.ts';
import type { Bootstrap, PolicyData, ValidPolicy } from './document.ts';

export type ComposeJob =
  | {
      readonly kind: 'document';
      readonly text: string;
      readonly source: string;
      readonly bootstrap: Bootstrap;
      readonly env: NodeJS.ProcessEnv;
    }
  | { readonly kind: 'file'; readonly path: string; readonly bootstrap: Bootstrap; readonly env: NodeJS.ProcessEnv };

export interface ComposedFile extends ValidPolicy {
  /** The file's bootstrap sections as they are now (to tell the operator they wait for a restart). */
  readonly bootstrapData: Readonly<Record<string, PolicyData>>;
}

/** A stored or submitted document: validated and composed with this instance's bootstrap and environment. */
export function composeOffThread(
  bootstrap: Bootstrap,
  text: string,
  source: string,
  env: NodeJS.ProcessEnv,
): Promise<ValidPolicy> {
  return run({ kind: 'document', text, source, bootstrap: plain(bootstrap), env: { ...env } });
}

/** The config file's policy sections, read as a policy document (errors name the file's lines). */
export function composeFileOffThread(
  bootstrap: Bootstrap,
  path: string,
  env: NodeJS.ProcessEnv,
): Promise<ComposedFile> {
  return run({ kind: 'file', path, bootstrap: plain(bootstrap), env: { ...env } }) as Promise<ComposedFile>;
}

/** The bootstrap as plain data (its `env`, when set, is the demo's own and travels as a copy). */
function plain(b: Bootstrap): Bootstrap {
  return {
    data: b.data,
    source: b.source,
    baseDir: b.baseDir,
    ...(b.env === undefined ? {} : { env: { ...b.env } }),
    // The allow-list of `${…}` references must travel too: without it the readers would resolve any.
    ...(b.references === undefined ? {} : { references: [...b.references] }),
  };
}

interface Reply {
  readonly id: number;
  readonly ok?: ValidPolicy;
  readonly bootstrapData?: ComposedFile['bootstrapData'];
  readonly error?: string;
  /** Set when the document was invalid: the ConfigError's source and problems. */
  readonly source?: string;
  readonly problems?: readonly ConfigProblem[];
}

/**
 * One worker per process, started on first use and kept while jobs keep coming: a fresh thread
 * per job would compile every config reader again each time, and an apply reads the document
 * more than once. It is stopped once it has been idle for IDLE_STOP_MS: its V8 isolate and the
 * config readers it compiled hold about 30 MiB, and most gateways apply a policy rarely or
 * never, so the next apply after a quiet spell pays the start-up (a few hundred ms, off the
 * request path) instead of every gateway paying the memory. It holds the process open only
 * while a job is pending (a CLI command exits when its work is done; a job in flight is never
 * dropped); a worker that dies is replaced on the next job.
 */
let IDLE_STOP_MS = 60_000;
let worker: Worker | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let nextId = 1;
const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();

function stopWhenIdle(w: Worker): void {
  clearTimeout(idleTimer);
  idleTimer = undefined;
  if (pending.size > 0 || worker !== w) return;
  idleTimer = setTimeout(() => {
    idleTimer = undefined;
    if (worker !== w || pending.size > 0) return;
    worker = undefined;
    void w.terminate();
  }, IDLE_STOP_MS);
  idleTimer.unref();
}

function composer(): Worker {
  if (worker !== undefined) return worker;
  const w = new Worker(new URL('./compose-worker.ts', import.meta.url));
  w.on('message', (r: Reply) => {
    const p = pending.get(r.id);
    pending.delete(r.id);
    if (pending.size === 0) w.unref();
    p?.resolve(r);
    stopWhenIdle(w);
  });
  const fail = (err: Error) => {
    if (worker === w) worker = undefined;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`the policy reader stopped (exit ${code})`)));
  // After the listeners: adding a 'message' listener references the worker again.
  w.unref();
  worker = w;
  return w;
}

/** Stops the worker (the gateway's close). */
export async function closeComposer(): Promise<void> {
  clearTimeout(idleTimer);
  idleTimer = undefined;
  const w = worker;
  worker = undefined;
  await w?.terminate();
}

/** Whether the worker is running, and the idle time after which it stops (for tests). */
export function composerRunning(): boolean {
  return worker !== undefined;
}
export function setComposerIdleStopMs(ms: number): void {
  IDLE_STOP_MS = ms;
}

async function run(job: ComposeJob): Promise<ValidPolicy | ComposedFile> {
  const w = composer();
  clearTimeout(idleTimer);
  idleTimer = undefined;
  const id = nextId++;
  const reply = await new Promise<Reply>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.ref();
    w.postMessage({ id, job });
  });
  if (reply.ok === undefined) {
    if (reply.problems !== undefined) throw new ConfigError(reply.source ?? '<policy>', reply.problems);
    throw new Error(reply.error ?? 'the policy could not be read');
  }
  return {
    ...reply.ok,
    config: deepFreeze(reply.ok.config),
    ...(reply.bootstrapData === undefined ? {} : { bootstrapData: reply.bootstrapData }),
  };
}
