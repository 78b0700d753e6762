/**
 * For the Redis backends' tests: a backend under a fresh random key prefix on the real Redis
 * (PORTCULLIS_TEST_REDIS_URL, default local), in the shape the contract suites take, with a
 * real-time `advance` (the scripts read the server clock) and a cleanup that deletes its keys.
 */
import { randomUUID } from 'node:crypto';

export const TEST_REDIS_URL = process.env['PORTCULLIS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Cleanable {
  ready(): Promise<void>;
  deleteAllKeys(): Promise<number>;
  close(): Promise<void>;
}

export async function redisUnderTest<B extends Cleanable>(
  make: (keyPrefix: string) => B,
): Promise<{ backend: B; advance: (ms: number) => Promise<void>; cleanup: () => Promise<void> }> {
  const backend = make(`portcullis-test:${randomUUID()}:`);
  await backend.ready();
  return {
    backend,
    advance: sleep,
    cleanup: async () => {
      await backend.deleteAllKeys();
      await backend.close();
    },
  };
}
