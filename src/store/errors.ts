/** Why a store could not be opened: corrupted file, schema from a newer version, permissions. */
export class StoreOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreOpenError';
  }
}

/** The store was used before `init()` or after `close()`. */
export class StoreClosedError extends Error {
  constructor(message = 'the store is not open (call init() first, and not after close())') {
    super(message);
    this.name = 'StoreClosedError';
  }
}
