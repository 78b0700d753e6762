/**
 * The policy operations, shared by the admin API (src/admin/resources/policy.ts) and the CLI
 * (src/cli/policy-command.ts): validate, show, history, diff, propose, approve, reject, apply
 * and rollback. Every operation is one audit record `policy.<op>` with the actor, the version,
 * its hash and the hash of the diff it makes; a change is recorded before it is made (and a
 * change the audit log cannot take is not made). Refusals are catalogue errors.
 *
 * Activation is `store.activatePolicyVersion` guarded by the active number read at the start
 * (optimistic concurrency: the loser of two concurrent applies gets 409), then the number is
 * announced on the policy channel (when Redis is configured) and handed to `onActivated`, which the
 * running gateway uses to swap to it at once.
 */
import type { AuditActor, AuditEntry, AuditMetadata } from '../audit/types.ts';
import { ConfigError } from '../config/errors.ts';
import type { GatewayConfig } from '../config/types.ts';
import { credentialShape } from '../core/secret-shapes.ts';
import { GatewayError, gatewayError } from '../errors/gateway-error.ts';
import type { PolicyAuthor, PolicyStore, PolicyVersion } from '../policy/contract.ts';
import { composeOffThread } from './compose-off-thread.ts';
import {
  type Bootstrap,
  diffPolicy,
  diffSha256,
  type PolicyChange,
  type PolicyDocument,
  parseStoredDocument,
  type ValidPolicy,
} from './document.ts';

/** Who runs an operation: the version author, the audit actor, and the person behind both (two-person rule). */
export interface PolicyActor {
  readonly author: PolicyAuthor;
  readonly audit: AuditActor;
  readonly requestId: string | null;
  /** Extra audit facts (role, token id, client address). */
  readonly metadata?: AuditMetadata;
}

export interface PolicyServiceOptions {
  readonly store: PolicyStore;
  readonly bootstrap: Bootstrap;
  /** `policy.require_approval` from the config file: applying needs an approved proposal. */
  readonly requireApproval: boolean;
  /** Resolves `${…}` when a document is validated here. Default: the bootstrap's, else process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Appends one audit record; rejects when it cannot (the operation is then refused). */
  readonly audit: (entry: AuditEntry) => Promise<void>;
  /** Announces a newly active number to every instance (the Redis policy channel); never throws. */
  readonly publish?: (number: number) => Promise<unknown>;
  /** This process's running gateway: swap to the version now. A failure is reported, not thrown. */
  readonly onActivated?: (version: PolicyVersion, config: GatewayConfig) => void | Promise<void>;
  readonly now?: () => Date;
  /**
   * Validates and composes a document (every config reader over bootstrap + document). Default:
   * on the worker thread (compose-off-thread.ts), so a large document does not hold up the
   * requests this instance is serving while an operator validates, proposes or applies.
   */
  readonly compose?: (
    bootstrap: Bootstrap,
    text: string,
    source: string,
    env: NodeJS.ProcessEnv,
  ) => Promise<ValidPolicy>;
}

export interface ApplyResult {
  /** False: the document equals the active one; nothing was stored or changed. */
  readonly changed: boolean;
  readonly version: PolicyVersion;
  readonly previous: number | undefined;
  readonly changes: readonly PolicyChange[];
  readonly diffSha256: string;
  /** Set when this process could not switch to the new version (the store has it active). */
  readonly localError?: string;
}

export type DocumentRef = number | 'active';

export interface PolicyService {
  validate(text: string, source: string): Promise<{ valid: ValidPolicy; changes: PolicyChange[]; active?: number }>;
  /** The active version (undefined: `active`) or version N; 404 when there is none. */
  show(number?: number): Promise<PolicyVersion>;
  history(query: { limit?: number; before?: number }): Promise<PolicyVersion[]>;
  diff(a: DocumentRef, b: DocumentRef): Promise<PolicyChange[]>;
  propose(text: string, source: string, comment: string, actor: PolicyActor): Promise<ApplyResult>;
  approve(number: number, actor: PolicyActor): Promise<PolicyVersion>;
  reject(number: number, reason: string, actor: PolicyActor): Promise<PolicyVersion>;
  apply(
    what: { readonly text: string; readonly source: string } | { readonly number: number },
    opts: { readonly ifVersion?: number; readonly comment?: string },
    actor: PolicyActor,
  ): Promise<ApplyResult>;
  rollback(opts: { readonly to?: number; readonly comment?: string }, actor: PolicyActor): Promise<ApplyResult>;
}

/** At most this many problems travel in `error.details` (a document can hold thousands of mistakes). */
const MAX_DETAILS = 200;

const withheld = (text: string): string =>
  credentialShape(text) === undefined ? text : '(withheld: it looks like a credential)';

/** A ConfigError as the catalogue's 400, every problem listed (paths, positions, messages: no values). */
export function invalidPolicy(err: ConfigError): GatewayError {
  const first = err.problems[0];
  return gatewayError('policy.invalid', {
    params: {
      count: err.problems.length,
      first: first === undefined ? '(none)' : withheld(`${first.path || '(document)'}: ${first.message}`),
    },
    // Messages name keys the caller wrote; one that looks like a pasted credential is withheld.
    details: err.problems.slice(0, MAX_DETAILS).map((p) => ({
      path: withheld(p.path),
      ...(p.line === undefined ? {} : { line: p.line }),
      ...(p.column === undefined ? {} : { column: p.column }),
      message: withheld(p.message),
    })),
  });
}

/** The person behind an author: admin user (session or token alike), CLI OS user, or the seed file. */
export function personOf(author: PolicyAuthor): string {
  if (author.kind === 'admin_user') return `admin:${author.id}`;
  // Token authors are `<user id>/<token id>`: the same user through a token is the same person.
  if (author.kind === 'admin_token') return `admin:${author.id.split('/')[0]}`;
  return `${author.kind}:${author.id}`;
}

export function createPolicyService(opts: PolicyServiceOptions): PolicyService {
  const { store, bootstrap } = opts;
  const env = opts.env ?? bootstrap.env ?? process.env;
  const now = () => (opts.now?.() ?? new Date()).toISOString();

  const compose = opts.compose ?? composeOffThread;

  async function validateText(text: string, source: string): Promise<ValidPolicy> {
    try {
      return await compose(bootstrap, text, source, env);
    } catch (err) {
      if (err instanceof ConfigError) throw invalidPolicy(err);
      throw err;
    }
  }

  async function must(number: number): Promise<PolicyVersion> {
    const v = await store.getPolicyVersion(number);
    if (v === undefined) throw gatewayError('policy.not_found', { params: { version: number } });
    return v;
  }

  async function mustActive(): Promise<PolicyVersion> {
    const active = await store.activePolicyVersion();
    if (active === undefined)
      throw gatewayError('policy.not_found', { params: { version: '"active" (none is active yet)' } });
    return active;
  }

  const docOf = (v: PolicyVersion | undefined): PolicyDocument =>
    v === undefined ? {} : parseStoredDocument(v.document);

  async function record(
    op: string,
    actor: PolicyActor,
    target: number | undefined,
    facts: AuditMetadata,
    refused?: string,
  ): Promise<void> {
    const entry: AuditEntry = {
      actor: actor.audit,
      action: `policy.${op}`,
      target: target === undefined ? null : `policy:${target}`,
      decision: refused === undefined ? 'allowed' : 'refused',
      reason: refused ?? null,
      requestId: actor.requestId,
      metadata: { author_kind: actor.author.kind, ...actor.metadata, ...facts },
    };
    if (refused !== undefined) {
      // A refusal changed nothing; failing to record it must not hide the refusal itself.
      await opts.audit(entry).catch(() => undefined);
      return;
    }
    try {
      await opts.audit(entry);
    } catch (err) {
      throw gatewayError('audit.unavailable', { cause: err, internal: { action: entry.action } });
    }
  }

  /** Runs an operation; a catalogue refusal is recorded as `refused` with its code, then rethrown. */
  async function audited<T>(op: string, actor: PolicyActor, target: number | undefined, run: () => Promise<T>) {
    try {
      return await run();
    } catch (err) {
      if (err instanceof GatewayError && err.status < 500 && err.code !== 'audit.unavailable')
        await record(op, actor, target, {}, err.code);
      throw err;
    }
  }

  /**
   * Records, activates against `expected`, announces. `inserted`: the version was made by this
   * call (a lost race rejects it, so no orphan proposal is left behind).
   */
  async function activate(
    op: string,
    actor: PolicyActor,
    target: PolicyVersion,
    valid: ValidPolicy,
    active: PolicyVersion | undefined,
    inserted: boolean,
    facts: AuditMetadata,
  ): Promise<ApplyResult> {
    const changes = diffPolicy(docOf(active), valid.document);
    const hash = diffSha256(changes);
    const expected = active?.number;
    try {
      await record(op, actor, target.number, {
        version: target.number,
        sha256: target.sha256,
        previous: expected ?? null,
        diff_sha256: hash,
        changes: changes.length,
        ...facts,
      });
    } catch (err) {
      if (inserted) await store.rejectPolicyVersion(target.number, actor.author, now(), 'audit log unavailable');
      throw err;
    }
    const ok = await store.activatePolicyVersion(target.number, expected, now());
    if (!ok) {
      const current = await store.activePolicyNumber();
      if (inserted)
        await store.rejectPolicyVersion(target.number, actor.author, now(), 'lost to a concurrent policy change');
      throw gatewayError('policy.version_conflict', {
        params: {
          active: current ?? 'none',
          detail: `another change was applied first (expected ${expected ?? 'none'})`,
        },
      });
    }
    const version = (await store.getPolicyVersion(target.number)) ?? target;
    await opts.publish?.(version.number).catch(() => undefined);
    let localError: string | undefined;
    try {
      await opts.onActivated?.(version, valid.config);
    } catch (err) {
      localError = err instanceof Error ? err.message.slice(0, 500) : 'could not switch to the new version';
    }
    return {
      changed: true,
      version,
      previous: expected,
      changes,
      diffSha256: hash,
      ...(localError === undefined ? {} : { localError }),
    };
  }

  async function noop(
    op: string,
    actor: PolicyActor,
    active: PolicyVersion,
    facts: AuditMetadata,
  ): Promise<ApplyResult> {
    await record(op, actor, active.number, {
      version: active.number,
      sha256: active.sha256,
      noop: true,
      diff_sha256: diffSha256([]),
      changes: 0,
      ...facts,
    });
    return { changed: false, version: active, previous: active.number, changes: [], diffSha256: diffSha256([]) };
  }

  function checkIfVersion(ifVersion: number | undefined, active: PolicyVersion | undefined): void {
    if (ifVersion !== undefined && active?.number !== ifVersion)
      throw gatewayError('policy.version_conflict', {
        params: { active: active?.number ?? 'none', detail: `--if-version ${ifVersion} is stale` },
      });
  }

  function checkComment(comment: string | undefined): string {
    const c = comment ?? '';
    if (typeof c !== 'string' || c.length > 2000 || /[\u0000-\u0008\u000b-\u001f\u007f]/.test(c))
      throw gatewayError('request.invalid', {
        params: { path: 'comment', detail: 'at most 2000 characters, no control characters' },
      });
    return c;
  }

  async function newVersion(
    valid: ValidPolicy,
    active: PolicyVersion | undefined,
    comment: string,
    author: PolicyAuthor,
  ): Promise<PolicyVersion> {
    return store.insertPolicyVersion({
      parent: active?.number,
      sha256: valid.sha256,
      document: valid.canonical,
      author,
      createdAt: now(),
      comment,
    });
  }

  /** Re-reads a stored document against this bootstrap (an environment variable may be missing here). */
  function revalidate(v: PolicyVersion): Promise<ValidPolicy> {
    return validateText(v.document, `policy version ${v.number}`);
  }

  async function rollbackTo(
    op: string,
    target: PolicyVersion,
    active: PolicyVersion | undefined,
    comment: string,
    actor: PolicyActor,
  ): Promise<ApplyResult> {
    if (target.activatedAt === undefined)
      throw gatewayError('policy.wrong_state', {
        params: { version: target.number, state: target.state, detail: 'it was never active (apply it instead)' },
      });
    if (active !== undefined && active.sha256 === target.sha256) return noop(op, actor, active, { to: target.number });
    const valid = await revalidate(target);
    const made = await newVersion(valid, active, comment || `rollback to version ${target.number}`, actor.author);
    return activate(op, actor, made, valid, active, true, { to: target.number });
  }

  return {
    async validate(text, source) {
      const valid = await validateText(text, source);
      const active = await store.activePolicyVersion();
      return {
        valid,
        changes: diffPolicy(docOf(active), valid.document),
        ...(active === undefined ? {} : { active: active.number }),
      };
    },

    async show(number) {
      return number === undefined ? mustActive() : must(number);
    },

    async history(query) {
      return store.listPolicyVersions(query);
    },

    async diff(a, b) {
      const doc = async (ref: DocumentRef) => docOf(ref === 'active' ? await mustActive() : await must(ref));
      return diffPolicy(await doc(a), await doc(b));
    },

    async propose(text, source, comment, actor) {
      return audited('propose', actor, undefined, async () => {
        const c = checkComment(comment);
        const valid = await validateText(text, source);
        const active = await store.activePolicyVersion();
        const made = await newVersion(valid, active, c, actor.author);
        const changes = diffPolicy(docOf(active), valid.document);
        const hash = diffSha256(changes);
        try {
          await record('propose', actor, made.number, {
            version: made.number,
            sha256: made.sha256,
            parent: active?.number ?? null,
            diff_sha256: hash,
            changes: changes.length,
          });
        } catch (err) {
          await store.rejectPolicyVersion(made.number, actor.author, now(), 'audit log unavailable');
          throw err;
        }
        return { changed: true, version: made, previous: active?.number, changes, diffSha256: hash };
      });
    },

    async approve(number, actor) {
      return audited('approve', actor, number, async () => {
        const v = await must(number);
        if (v.state !== 'proposed' || v.decidedBy !== undefined)
          throw gatewayError('policy.wrong_state', {
            params: {
              version: number,
              state: v.state === 'proposed' ? 'approved' : v.state,
              detail: 'only a proposed version not yet approved can be approved',
            },
          });
        if (personOf(v.author) === personOf(actor.author))
          throw gatewayError('policy.self_approval', { params: { version: number } });
        await record('approve', actor, number, { version: number, sha256: v.sha256, proposed_by: v.author.kind });
        if (!(await store.approvePolicyVersion(number, actor.author, now())))
          throw gatewayError('policy.wrong_state', {
            params: { version: number, state: 'changed', detail: 'it changed while being approved' },
          });
        return must(number);
      });
    },

    async reject(number, reason, actor) {
      return audited('reject', actor, number, async () => {
        const r = checkComment(reason);
        if (r.trim() === '')
          throw gatewayError('request.invalid', { params: { path: 'reason', detail: 'a reason is required' } });
        const v = await must(number);
        if (v.state !== 'proposed')
          throw gatewayError('policy.wrong_state', {
            params: { version: number, state: v.state, detail: 'only a proposed version can be rejected' },
          });
        await record('reject', actor, number, { version: number, sha256: v.sha256 });
        if (!(await store.rejectPolicyVersion(number, actor.author, now(), r)))
          throw gatewayError('policy.wrong_state', {
            params: { version: number, state: 'changed', detail: 'it changed while being rejected' },
          });
        return must(number);
      });
    },

    async apply(what, o, actor) {
      const target = 'number' in what ? what.number : undefined;
      return audited('apply', actor, target, async () => {
        const comment = checkComment(o.comment);
        const active = await store.activePolicyVersion();
        checkIfVersion(o.ifVersion, active);
        const facts: AuditMetadata = o.ifVersion === undefined ? {} : { if_version: o.ifVersion };
        if ('text' in what) {
          const valid = await validateText(what.text, what.source);
          if (active !== undefined && valid.sha256 === active.sha256) return noop('apply', actor, active, facts);
          if (opts.requireApproval)
            throw gatewayError('policy.approval_required', {
              params: { detail: 'propose the document, have another admin approve it, then apply the version' },
            });
          const made = await newVersion(valid, active, comment, actor.author);
          return activate('apply', actor, made, valid, active, true, facts);
        }
        const v = await must(what.number);
        if (v.state === 'active') return noop('apply', actor, v, facts);
        if (v.state === 'rejected')
          throw gatewayError('policy.wrong_state', {
            params: { version: v.number, state: v.state, detail: 'a rejected version cannot be applied' },
          });
        // An earlier version comes back as a new version with its content: a rollback.
        if (v.state === 'superseded') return rollbackTo('apply', v, active, comment, actor);
        if (opts.requireApproval && v.decidedBy === undefined)
          throw gatewayError('policy.approval_required', {
            params: { detail: `version ${v.number} has not been approved` },
          });
        if (v.parent !== active?.number)
          throw gatewayError('policy.version_conflict', {
            params: {
              active: active?.number ?? 'none',
              detail: `version ${v.number} was proposed on top of version ${v.parent ?? 'none'}; propose it again on the active one`,
            },
          });
        const valid = await revalidate(v);
        if (active !== undefined && valid.sha256 === active.sha256) return noop('apply', actor, active, facts);
        return activate('apply', actor, v, valid, active, false, facts);
      });
    },

    async rollback(o, actor) {
      return audited('rollback', actor, o.to, async () => {
        const comment = checkComment(o.comment);
        const active = await store.activePolicyVersion();
        if (active === undefined)
          throw gatewayError('policy.not_found', { params: { version: '"active" (none is active yet)' } });
        if (o.to !== undefined) return rollbackTo('rollback', await must(o.to), active, comment, actor);
        // The version that was active before the current one: the latest activation among the superseded.
        const earlier = (await store.listPolicyVersions({ limit: 1000 }))
          .filter((v) => v.state === 'superseded' && v.activatedAt !== undefined)
          .sort((a, b) => Date.parse(b.activatedAt ?? '') - Date.parse(a.activatedAt ?? '') || b.number - a.number);
        const previous = earlier[0];
        if (previous === undefined)
          throw gatewayError('policy.not_found', { params: { version: `active before ${active.number}` } });
        return rollbackTo('rollback', previous, active, comment, actor);
      });
    },
  };
}
