/**
 * The KEKs a process may use: one current KEK that wraps every new data key, plus the KEKs
 * still accepted for unwrapping while a master-key rotation is under way. Outside a rotation
 * `previous` is empty, so an old KEK is not silently kept around.
 */
import { CryptoError } from '../crypto-error.ts';
import type { KekProvider } from './kek-provider.ts';

export interface Keyring {
  readonly current: KekProvider;
  /** The KEK with this id, or a `wrong_kek` error naming both sides. */
  forUnwrap(kekId: string, what: string): KekProvider;
  readonly ids: readonly string[];
}

export function createKeyring(current: KekProvider, previous: readonly KekProvider[] = []): Keyring {
  const byId = new Map<string, KekProvider>();
  for (const kek of [current, ...previous]) {
    if (typeof kek.id !== 'string' || kek.id === '') throw new CryptoError('bad_key', 'a KEK provider has no id');
    if (byId.has(kek.id)) throw new CryptoError('bad_key', `KEK ${kek.id} is configured twice`);
    byId.set(kek.id, kek);
  }
  const ids = [...byId.keys()];
  return {
    current,
    ids,
    forUnwrap(kekId, what) {
      const kek = byId.get(kekId);
      if (kek !== undefined) return kek;
      throw new CryptoError('wrong_kek', wrongKekMessage(what, [kekId], ids));
    },
  };
}

export function wrongKekMessage(what: string, foundIds: readonly string[], configuredIds: readonly string[]): string {
  const found = foundIds.join(', ');
  const configured =
    configuredIds.length === 1
      ? `the configured KEK is ${configuredIds[0]}`
      : `the configured KEKs are ${configuredIds.join(', ')}`;
  return `${what} wrapped by KEK ${found}, ${configured}; configure the KEK that wrapped them (during a master-key rotation, both the old and the new one)`;
}
