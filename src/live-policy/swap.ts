/**
 * The atomic runtime swap. The request handler takes a lease on the current snapshot when a
 * request arrives and returns it when the request has finished (stream included), so every
 * request runs wholly under the snapshot it started with. A swap is one assignment: requests
 * that arrive afterwards get the new snapshot; the old one is disposed (its unshared parts
 * closed) only when its last lease is returned, so an in-flight stream is never cut.
 */
import type { GatewayConfig } from '../config/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { ActivePolicyRef, PolicyTarget } from '../policy/contract.ts';
import type { GatewayRuntime } from './runtime.ts';

export interface RuntimeLease {
  readonly runtime: GatewayRuntime;
  /** Call exactly once, when the request has finished; later calls do nothing. */
  release(): void;
}

export interface RuntimeSwitch {
  current(): GatewayRuntime;
  acquire(): RuntimeLease;
  /** Makes `next` current; the previous snapshot is disposed once its requests have finished. */
  swap(next: GatewayRuntime): void;
  /** Snapshots replaced but still serving requests. */
  draining(): number;
  /** Disposes the current snapshot and waits for the draining ones (call after the listener drained). */
  close(): Promise<void>;
}

interface Entry {
  readonly runtime: GatewayRuntime;
  leases: number;
  retired: boolean;
  disposed: Promise<void> | undefined;
}

export function createRuntimeSwitch(initial: GatewayRuntime): RuntimeSwitch {
  let current: Entry = { runtime: initial, leases: 0, retired: false, disposed: undefined };
  const draining = new Set<Entry>();
  const dispose = (e: Entry): void => {
    draining.delete(e);
    e.disposed ??= e.runtime.dispose();
  };
  return {
    current: () => current.runtime,
    acquire() {
      const e = current;
      e.leases++;
      let released = false;
      return {
        runtime: e.runtime,
        release() {
          if (released) return;
          released = true;
          if (--e.leases === 0 && e.retired) dispose(e);
        },
      };
    },
    swap(next) {
      const old = current;
      current = { runtime: next, leases: 0, retired: false, disposed: undefined };
      old.retired = true;
      if (old.leases === 0) dispose(old);
      else draining.add(old);
    },
    draining: () => draining.size,
    async close() {
      current.retired = true;
      // Whatever still holds a lease past the drain was aborted by the listener; close anyway.
      for (const e of [...draining, current]) dispose(e);
      await Promise.all([...draining, current].map((e) => e.disposed));
    },
  };
}

export interface PolicyApplierOptions {
  readonly runtimes: RuntimeSwitch;
  readonly build: (config: GatewayConfig, policy: ActivePolicyRef, previous: GatewayRuntime) => Promise<GatewayRuntime>;
  readonly log: Logger;
}

/**
 * The gateway's PolicyTarget: builds the new snapshot beside the running one (the running one
 * keeps serving meanwhile) and swaps only when the build succeeded. Applies are serialised:
 * each builds on the snapshot the previous one left.
 */
export function createPolicyApplier(opts: PolicyApplierOptions): PolicyTarget & {
  /** Time the last successful apply took to build and swap, in milliseconds. */
  lastApplyMs(): number | undefined;
} {
  let queue: Promise<unknown> = Promise.resolve();
  let lastMs: number | undefined;
  return {
    activePolicy: () => opts.runtimes.current().policy,
    lastApplyMs: () => lastMs,
    applyPolicy(config, version) {
      const run = queue.then(async () => {
        const started = performance.now();
        const previous = opts.runtimes.current();
        const next = await opts.build(config, version, previous);
        opts.runtimes.swap(next);
        lastMs = performance.now() - started;
        opts.log.info(
          {
            event: 'policy.applied',
            version: version.number,
            sha256: version.sha256,
            previous: previous.policy?.number,
            carriedOver: next.carriedOver,
            ms: Math.round(lastMs * 100) / 100,
          },
          `policy version ${version.number} is active on this instance`,
        );
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
}
