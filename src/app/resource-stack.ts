/**
 * What a gateway opened, closed in the reverse order of opening (last in, first out), on a
 * clean shutdown and on a start that failed half-way alike. One list replaces the two that
 * had to be kept in step by hand: a resource is pushed right after it is opened, so whatever
 * is on the stack is exactly what needs closing, and later resources (which may use earlier
 * ones) always go first.
 */
import type { Logger } from '../observability/logger.ts';

export interface ResourceStack {
  /** Registers `close` for a resource just opened; returns the resource for chaining. */
  push<T>(name: string, resource: T, close: (resource: T) => Promise<void> | void): T;
  /** Registers a close step that has no resource value (a subscription, a cache wipe). */
  defer(name: string, close: () => Promise<void> | void): void;
  /** Names on the stack, oldest first (for tests and diagnostics). */
  names(): string[];
  /**
   * Closes everything, newest first. A step that throws is logged and the rest still run;
   * calling it again (or concurrently) returns the same promise.
   */
  close(): Promise<void>;
}

export function createResourceStack(log: Logger): ResourceStack {
  const steps: Array<{ name: string; close: () => Promise<void> | void }> = [];
  let closing: Promise<void> | undefined;
  const defer = (name: string, close: () => Promise<void> | void): void => {
    if (closing !== undefined) throw new Error(`resource stack: "${name}" opened after close began`);
    steps.push({ name, close });
  };
  return {
    push(name, resource, close) {
      defer(name, () => close(resource));
      return resource;
    },
    defer,
    names: () => steps.map((s) => s.name),
    close() {
      closing ??= (async () => {
        for (let step = steps.pop(); step !== undefined; step = steps.pop()) {
          try {
            await step.close();
          } catch (err) {
            log.warn({ event: 'gateway.close_failed', resource: step.name, err }, 'could not close a resource');
          }
        }
      })();
      return closing;
    },
  };
}
