/** Shared set-up for the crypto tests (not a test file itself). */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../observability/logger.ts';
import type { Store } from '../store/store.ts';
import type { SecurityConfig } from './config-types.ts';
import { createDataKeys, type DataKeys, type DataKeysOptions } from './data-keys.ts';
import { createEnvelope, type Envelope } from './envelope.ts';
import type { Binding } from './envelope-format.ts';
import { createLocalKek, type KekProvider, type LocalKek } from './kek/kek-provider.ts';
import { createMemoryDataKeyRepository, type MemoryDataKeyRepository } from './memory-data-key-repository.ts';
import { type EnvelopeSource, envelopeSource } from './open.ts';

export function randomKek(label = 'test KEK'): LocalKek {
  const key = randomBytes(32);
  try {
    return createLocalKek(key, label);
  } finally {
    key.fill(0);
  }
}

export interface Harness {
  readonly repo: MemoryDataKeyRepository;
  readonly kek: KekProvider;
  readonly dataKeys: DataKeys;
  readonly envelope: Envelope;
}

export function harness(opts: Partial<DataKeysOptions> = {}): Harness {
  const repo = (opts.repository as MemoryDataKeyRepository | undefined) ?? createMemoryDataKeyRepository();
  const kek = opts.kek ?? randomKek();
  const dataKeys = createDataKeys({ ...opts, repository: repo, kek });
  return { repo, kek, dataKeys, envelope: createEnvelope({ dataKeys }) };
}

/** A binding; `column: null` for a value bound to the row only. */
export function cell(
  row: string,
  tenant = 't1',
  table = 'provider_credentials',
  column: string | null = 'secret',
): Binding {
  return column === null ? { table, row, tenant } : { table, row, tenant, column };
}

/** A KEK whose wrap fails after `okWraps` successful calls: simulates a crash half-way through a rotation. */
export function failingAfter(kek: KekProvider, okWraps: number): KekProvider {
  let calls = 0;
  return {
    id: kek.id,
    wrap(dek, aad) {
      calls++;
      if (calls > okWraps) return Promise.reject(new Error('injected failure: KMS unreachable'));
      return kek.wrap(dek, aad);
    },
    unwrap: (wrapped, aad) => kek.unwrap(wrapped, aad),
  };
}

/** A KEK that records (copies of) every data key it wraps, to prove they are never stored in the clear. */
export function recordingKek(kek: KekProvider, seen: Buffer[]): KekProvider {
  return {
    id: kek.id,
    wrap(dek, aad) {
      seen.push(Buffer.from(dek));
      return kek.wrap(dek, aad);
    },
    unwrap: (wrapped, aad) => kek.unwrap(wrapped, aad),
  };
}

/**
 * For tests that open one envelope per store at a time and close it by naming the store:
 * each open makes a fresh envelope source, and close closes the last one opened for that store.
 */
export function trackedEnvelopes() {
  const sources = new Map<Store, EnvelopeSource>();
  return {
    open(security: SecurityConfig, store: Store, log: Logger): Promise<Envelope> {
      const source = envelopeSource(security, store, log);
      sources.set(store, source);
      return source.get();
    },
    async close(store: Store): Promise<void> {
      await sources.get(store)?.close();
      sources.delete(store);
    },
  };
}
