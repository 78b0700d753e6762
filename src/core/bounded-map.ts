/**
 * A Map that forgets its least recently used entries past a size limit, so state keyed by what
 * callers send (threat detection's keys, addresses and prefixes; the limit stage's memos) stays
 * bounded however many of them an attacker makes up.
 *
 * Approximate LRU with two generations instead of a delete-and-reinsert on every read (which
 * costs several times a lookup on the request path): reads hit `young`, or move the entry up
 * from `old`; when `young` fills half the budget it becomes `old` and the previous `old`
 * generation, everything not used since, is dropped whole.
 */
export class BoundedMap<K, V> {
  readonly #half: number;
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 2) throw new RangeError('BoundedMap: max must be an integer >= 2');
    this.#half = Math.floor(max / 2);
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  /** The value, marked as recently used. */
  get(key: K): V | undefined {
    const v = this.#young.get(key);
    if (v !== undefined) return v;
    const o = this.#old.get(key);
    if (o !== undefined) {
      this.#old.delete(key);
      this.#insert(key, o);
    }
    return o;
  }

  /** The value without touching its recency. */
  peek(key: K): V | undefined {
    return this.#young.get(key) ?? this.#old.get(key);
  }

  set(key: K, value: V): void {
    if (this.#young.has(key)) {
      this.#young.set(key, value);
      return;
    }
    this.#old.delete(key);
    this.#insert(key, value);
  }

  delete(key: K): void {
    this.#young.delete(key);
    this.#old.delete(key);
  }

  /** The value, creating it with `make` when absent. */
  upsert(key: K, make: () => V): V {
    const v = this.get(key);
    if (v !== undefined) return v;
    const created = make();
    this.#insert(key, created);
    return created;
  }

  #insert(key: K, value: V): void {
    if (this.#young.size >= this.#half) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }
}
