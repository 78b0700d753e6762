/**
 * Live policy on one instance: which version it starts on, and the config file as a source of
 * versions for operators who keep policy in files (start and SIGHUP).
 *
 * At start the store's active version wins. The file seeds version 1 when the store has none.
 * When the active version was itself seeded from a file (author `file_seed`) and the file now
 * differs, the file is the newer word and becomes a new active version; a version made through
 * the admin API or the CLI is never overwritten by the file at start (the file's differing
 * policy is reported and ignored; SIGHUP applies it explicitly).
 */
import type { GatewayConfig } from '../config/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { ActivePolicyRef, PolicyAuthor, PolicyStore, PolicyVersion } from '../policy/contract.ts';
import { composeFileOffThread } from './compose-off-thread.ts';
import {
  type Bootstrap,
  canonicalJson,
  composeConfig,
  type PolicyDocument,
  policySha256,
  sha256Hex,
  splitConfigFile,
} from './document.ts';

export interface StartupPolicy {
  readonly bootstrap: Bootstrap;
  /** Bootstrap + the active version's document, resolved on this instance. */
  readonly config: GatewayConfig;
  readonly policy: ActivePolicyRef;
}

export interface LivePolicyFileOptions {
  readonly path: string;
  readonly store: PolicyStore;
  readonly log: Logger;
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: () => Date;
}

/**
 * Decides the version this instance starts on (seeding from the file when the store has none).
 * Throws when the active version cannot be built here: an instance does not serve a policy
 * older than the one the fleet runs.
 */
export async function resolveStartupPolicy(
  opts: LivePolicyFileOptions & {
    /** The file, already read and validated by the caller (loadConfig): reused when the store runs the same policy. */
    readonly fileConfig: GatewayConfig;
  },
): Promise<StartupPolicy> {
  const { store, log } = opts;
  const env = opts.env ?? process.env;
  const split = splitConfigFile(opts.path);
  // Hashing needs no second read of the readers: the caller validated the whole file.
  const fromFile = { document: split.document, sha256: policySha256(split.document) };
  let active = await store.activePolicyVersion();
  if (active === undefined || (active.author.kind === 'file_seed' && active.sha256 !== fromFile.sha256)) {
    const made = await activateDocument(opts, fromFile.document, active, {
      author: { kind: 'file_seed', id: opts.path },
      comment: active === undefined ? 'seeded from the config file' : 'the config file changed (read at start)',
    });
    if (made !== undefined)
      log.info(
        { event: 'policy.seeded', version: made.number, file: opts.path },
        `policy version ${made.number} made from the config file`,
      );
    // Lost a race with another instance seeding or applying: take what it made.
    active = made ?? (await store.activePolicyVersion());
    if (active === undefined) throw new Error('policy: no active version after seeding the store');
  } else if (active.sha256 !== fromFile.sha256) {
    log.warn(
      { event: 'policy.file_ignored', active: active.number, file: opts.path },
      `the config file's policy differs from active version ${active.number}, which was made through the admin API or CLI and is kept; send SIGHUP to apply the file`,
    );
  }
  let config: GatewayConfig;
  try {
    config =
      active.sha256 === fromFile.sha256
        ? opts.fileConfig
        : composeConfig(split.bootstrap, active.document, env, `policy version ${active.number}`);
  } catch (err) {
    throw new Error(
      `policy version ${active.number} (active in the store) cannot be built on this instance: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return { bootstrap: split.bootstrap, config, policy: { number: active.number, sha256: active.sha256 } };
}

export type FileReload =
  | { readonly result: 'unchanged'; readonly version: number | undefined }
  | {
      readonly result: 'applied';
      readonly version: number;
      readonly previous: number | undefined;
      /** The composed config of the new version (this instance builds it without reading it again). */
      readonly config: GatewayConfig;
    }
  | { readonly result: 'invalid'; readonly reason: string }
  | { readonly result: 'conflict'; readonly reason: string };

/**
 * SIGHUP: re-reads the config file's policy sections. An invalid file changes nothing (the
 * reason is returned, every problem with its line and path). A valid, different one becomes a
 * new active version (guarded by the active number, so a concurrent apply wins cleanly); the
 * caller then adopts it (and announces it to the other instances).
 */
export async function reloadPolicyFile(
  opts: LivePolicyFileOptions & { readonly bootstrap: Bootstrap },
): Promise<FileReload> {
  const env = opts.env ?? process.env;
  let document: PolicyDocument;
  let sha256: string;
  let config: GatewayConfig;
  try {
    // Every config reader over the file, on a worker thread: requests keep being served meanwhile.
    const valid = await composeFileOffThread(opts.bootstrap, opts.path, env);
    if (canonicalJson(valid.bootstrapData) !== canonicalJson(opts.bootstrap.data))
      opts.log.warn(
        { event: 'policy.bootstrap_changed', file: opts.path },
        'bootstrap settings in the config file changed; they take effect at the next restart',
      );
    document = valid.document;
    sha256 = valid.sha256;
    config = valid.config;
  } catch (err) {
    return { result: 'invalid', reason: (err as Error).message };
  }
  const active = await opts.store.activePolicyVersion();
  if (active?.sha256 === sha256) return { result: 'unchanged', version: active.number };
  const made = await activateDocument(opts, document, active, {
    author: { kind: 'file_seed', id: opts.path },
    comment: 'the config file changed (SIGHUP)',
  });
  if (made === undefined)
    return { result: 'conflict', reason: 'another version became active meanwhile; send SIGHUP again' };
  return { result: 'applied', version: made.number, previous: active?.number, config };
}

/** Inserts the document as a version and activates it over `parent` (undefined when the race was lost). */
async function activateDocument(
  opts: LivePolicyFileOptions,
  document: PolicyDocument,
  parent: PolicyVersion | undefined,
  what: { readonly author: PolicyAuthor; readonly comment: string },
): Promise<PolicyVersion | undefined> {
  const now = (opts.now ?? (() => new Date()))().toISOString();
  const canonical = canonicalJson(document);
  const inserted = await opts.store.insertPolicyVersion({
    parent: parent?.number,
    sha256: sha256Hex(canonical),
    document: canonical,
    author: what.author,
    createdAt: now,
    comment: what.comment,
  });
  const ok = await opts.store.activatePolicyVersion(inserted.number, parent?.number, now);
  if (!ok) {
    await opts.store
      .rejectPolicyVersion(inserted.number, what.author, now, 'another version became active first')
      .catch(() => false);
    return undefined;
  }
  return (await opts.store.getPolicyVersion(inserted.number)) ?? inserted;
}
