/**
 * Worker side of compose-off-thread.ts: a long-lived thread that reads policy documents (or the
 * config file's policy sections) with every config reader, away from the thread that serves
 * requests, and posts each valid policy back (structured clone) or the error (a ConfigError's
 * problems, else its message).
 */
import { parentPort } from 'node:worker_threads';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/load.ts';
import type { ComposeJob } from './compose-off-thread.ts';
import { canonicalJson, readPolicyDocument, splitConfigFile } from './document.ts';

function compose(job: ComposeJob): unknown {
  if (job.kind === 'document') return { ok: readPolicyDocument(job.text, job.source, job.bootstrap, job.env) };
  const split = splitConfigFile(job.path);
  try {
    return {
      ok: readPolicyDocument(canonicalJson(split.document), job.path, job.bootstrap, job.env),
      bootstrapData: split.bootstrap.data,
    };
  } catch (err) {
    // Read the whole file again so every problem points at the file's own lines and columns.
    loadConfig(job.path, job.env);
    throw err;
  }
}

parentPort?.on('message', (m: { id: number; job: ComposeJob }) => {
  let reply: unknown;
  try {
    reply = compose(m.job);
  } catch (err) {
    // A ConfigError travels as its problems, so the caller gets the same error back (the admin
    // API lists every problem with its path and position); anything else as its message.
    reply =
      err instanceof ConfigError
        ? { error: err.message, source: err.source, problems: err.problems }
        : { error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage({ id: m.id, ...(reply as object) });
});
