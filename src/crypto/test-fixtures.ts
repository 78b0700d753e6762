/** Shared set-up for the crypto tests (not a test file itself). */
import { randomBytes } from 'node:crypto';
import { createDataKeys, type DataKeys, type DataKeysOptions } from './data-keys.ts';
import { createEnvelope, type Envelope } from './envelope.ts';
import type { Binding } from './envelope-format.ts';
import { createLocalKek, type KekProvider, type LocalKek } from './kek/kek-provider.ts';
import { createMemoryDataKeyRepository, type MemoryDataKeyRepository } from './memory-data-key-repository.ts';

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
