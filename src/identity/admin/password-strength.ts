/**
 * Admin password strength, estimated with zxcvbn-ts against its common-password and
 * diceware dictionaries (@zxcvbn-ts/language-common) and the account's own words (email,
 * tenant, "portcullis"). NIST SP 800-63B §5.1.1.2 asks for a check against commonly used and
 * breached passwords; zxcvbn also catches what a list cannot: the same words padded with
 * digits, l33t spellings, keyboard walks, repeats, dates and sequences.
 *
 * The estimator runs on a worker thread (password-strength-worker.ts) started on the first
 * check and stopped after IDLE_MS without one:
 *  - the dictionaries (about 50,000 ranked passwords) are never loaded by a gateway that sets
 *    no admin password, and are freed again after one is set (tested: the start-up module
 *    graph does not reach them; bench/password-dictionary-memory.ts measures the difference);
 *  - a check is synchronous CPU work that takes up to a few hundred milliseconds for long or
 *    l33t-heavy input; on the worker it never stalls requests.
 * Checks are answered in order, one at a time; one that takes longer than CHECK_TIMEOUT_MS
 * fails (the password is then not set: fail closed).
 *
 * Nothing leaves the process: the "pwned" (Have I Been Pwned) matcher of zxcvbn-ts is not used.
 */
import { Worker } from 'node:worker_threads';

/**
 * zxcvbn's score: 0–4, from its estimate of the guesses needed (4: at least 10^10). Admin
 * accounts reach every tenant's keys and logs, so only the top score is accepted.
 */
export const MIN_PASSWORD_SCORE = 4;
const IDLE_MS = 60_000;
const CHECK_TIMEOUT_MS = 30_000;

/** One check, sent to the worker. */
export interface StrengthRequest {
  readonly id: number;
  readonly password: string;
  readonly userInputs: readonly string[];
}

export type StrengthReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly score: number;
      readonly listed: boolean;
      readonly warning: string | null;
      readonly suggestions: readonly string[];
    }
  | { readonly id: number; readonly ok: false; readonly error: string };

interface Waiter {
  resolve(reply: StrengthReply): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

let worker: Worker | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let nextId = 1;
const waiting = new Map<number, Waiter>();

function failAll(err: Error): void {
  for (const w of waiting.values()) {
    clearTimeout(w.timer);
    w.reject(err);
  }
  waiting.clear();
}

function startWorker(): Worker {
  const w = new Worker(new URL('./password-strength-worker.ts', import.meta.url));
  w.on('message', (reply: StrengthReply) => {
    const waiter = waiting.get(reply.id);
    if (waiter === undefined) return;
    waiting.delete(reply.id);
    clearTimeout(waiter.timer);
    waiter.resolve(reply);
    if (waiting.size === 0) {
      w.unref();
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        void stopPasswordStrengthWorker();
      }, IDLE_MS).unref();
    }
  });
  w.on('error', (err) => failAll(err));
  w.on('exit', () => {
    if (worker === w) worker = undefined;
    failAll(new Error('the password strength worker stopped'));
  });
  return w;
}

/** Stops the worker (and frees the dictionaries) now; the next check starts a new one. */
export async function stopPasswordStrengthWorker(): Promise<void> {
  clearTimeout(idleTimer);
  const w = worker;
  worker = undefined;
  if (w !== undefined) await w.terminate();
}

/** Is the worker (and so the dictionary) loaded now? For tests and the memory bench. */
export function passwordStrengthWorkerRunning(): boolean {
  return worker !== undefined;
}

function check(password: string, userInputs: readonly string[]): Promise<StrengthReply> {
  clearTimeout(idleTimer);
  worker ??= startWorker();
  const w = worker;
  w.ref();
  const id = nextId++;
  return new Promise<StrengthReply>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`the password strength check took longer than ${CHECK_TIMEOUT_MS} ms`));
      // A stuck estimator is replaced rather than trusted with the next check.
      if (worker === w) void stopPasswordStrengthWorker();
    }, CHECK_TIMEOUT_MS);
    waiting.set(id, { resolve, reject, timer });
    w.postMessage({ id, password, userInputs } satisfies StrengthRequest);
  });
}

/** The words of an account a password must not lean on: the email, its parts, the tenant, the product. */
export function accountWords(email: string | undefined, extra: readonly string[] = []): string[] {
  const words = new Set<string>(['portcullis']);
  if (email !== undefined) {
    const lower = email.toLowerCase();
    words.add(lower);
    const [local = '', domain = ''] = lower.split('@');
    for (const part of [local, ...local.split(/[^\p{L}\p{N}]+/u), ...domain.split('.').slice(0, -1)]) {
      if (part.length >= 3) words.add(part);
    }
  }
  for (const w of extra) if (w.length >= 3) words.add(w.toLowerCase());
  return [...words];
}

export interface StrengthVerdict {
  readonly score: number;
  /** Why it is refused (safe to show: never echoes the password), or undefined when accepted. */
  readonly problem: string | undefined;
}

/** zxcvbn's verdict on a password for an account described by `userInputs`. Rejects when the check itself fails. */
export async function passwordStrength(password: string, userInputs: readonly string[]): Promise<StrengthVerdict> {
  const r = await check(password, userInputs);
  if (!r.ok) throw new Error(`the password strength check failed: ${r.error}`);
  const warning = r.warning ?? undefined;
  if (r.listed) {
    return {
      score: r.score,
      problem: `it is on the list of commonly used and breached passwords (or a simple variant of one)${warning === undefined ? '' : ` (${warning})`}`,
    };
  }
  if (r.score >= MIN_PASSWORD_SCORE) return { score: r.score, problem: undefined };
  const advice =
    r.suggestions[0] ??
    (warning === undefined ? 'make it longer, for example with several unrelated words' : undefined);
  return {
    score: r.score,
    problem:
      `it is too easy to guess (strength ${r.score} of 4, at least ${MIN_PASSWORD_SCORE} required)` +
      `${warning === undefined ? '' : `: ${warning}`}${advice === undefined ? '' : `; ${advice}`}`,
  };
}
