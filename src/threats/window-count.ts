/** Per-subject counts over a fixed window that starts at the subject's first event. */
import { BoundedMap } from '../core/bounded-map.ts';

interface Window {
  start: number;
  count: number;
}

export class WindowCounts {
  readonly #windowMs: number;
  readonly #map: BoundedMap<string, Window>;

  constructor(windowS: number, maxSubjects: number) {
    this.#windowMs = windowS * 1000;
    this.#map = new BoundedMap(maxSubjects);
  }

  /** Counts one event for `subject` at `now`; returns the count in its current window. */
  add(subject: string, now: number): number {
    const w = this.#map.get(subject);
    if (w === undefined || now - w.start >= this.#windowMs || now < w.start) {
      this.#map.set(subject, { start: now, count: 1 });
      return 1;
    }
    w.count += 1;
    return w.count;
  }

  /** Starts the subject over (after it fired, so the next firing needs a fresh threshold). */
  reset(subject: string): void {
    this.#map.delete(subject);
  }
}
