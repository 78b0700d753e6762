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

/** The database did not answer in time (or is known not to be answering): callers fail closed with 503. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
