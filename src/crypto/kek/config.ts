/**
 * `security.master_key` and `security.previous_master_keys`: the KEK that wraps every data
 * key (src/crypto/open.ts) and the old ones still accepted for unwrapping during a master-key
 * rotation. Both are `${ENV}`/`${file:…}` references only; the value must be base64 of 32
 * bytes or 64 hex digits. Problems name the YAML path, never the value.
 */
import type { ConfigReader, Located } from '../../config/reader.ts';
import { resolveSecretReference, type SecretContext } from '../../config/secrets.ts';
import { masterKeyFromValue, masterKeyProblem } from './master-key.ts';

const MAX_PREVIOUS = 8;

export interface MasterKeySettings {
  readonly masterKey?: string;
  readonly previousMasterKeys?: readonly string[];
}

export function readMasterKeys(
  r: ConfigReader,
  m: Map<string, Located> | undefined,
  at: Located,
  secrets: SecretContext,
): MasterKeySettings {
  const keyAt = r.field(m, at, 'master_key');
  const masterKey = keyAt.node === null ? undefined : readOne(r, keyAt, secrets);
  const previous: string[] = [];
  const ids = new Set<string>();
  if (masterKey !== undefined) ids.add(kekIdOf(masterKey));
  const items = r.items(r.field(m, at, 'previous_master_keys')) ?? [];
  if (items.length > MAX_PREVIOUS)
    r.report(r.field(m, at, 'previous_master_keys'), `expected at most ${MAX_PREVIOUS} keys`);
  for (const item of items) {
    const value = readOne(r, item, secrets);
    if (value === undefined) continue;
    const id = kekIdOf(value);
    if (ids.has(id)) {
      r.report(item, 'is the same key as master_key or another previous key (a rotation needs a new key)');
      continue;
    }
    ids.add(id);
    previous.push(value);
  }
  if (previous.length > 0 && keyAt.node === null && !r.problems.some((p) => p.path === keyAt.path)) {
    r.report(keyAt, 'is required when previous_master_keys is set (the new key wraps, the previous ones only unwrap)');
  }
  return {
    ...(masterKey === undefined ? {} : { masterKey }),
    ...(previous.length === 0 ? {} : { previousMasterKeys: previous }),
  };
}

function readOne(r: ConfigReader, at: Located, secrets: SecretContext): string | undefined {
  const text = r.rawStr(at);
  if (text === undefined) return undefined;
  const res = resolveSecretReference(text, secrets);
  if (!res.ok) {
    r.report(at, `${res.error} (e.g. master_key: "\${PORTCULLIS_MASTER_KEY}")`);
    return undefined;
  }
  const problem = masterKeyProblem(res.value);
  if (problem !== undefined) {
    r.report(at, problem);
    return undefined;
  }
  return res.value;
}

function kekIdOf(value: string): string {
  const kek = masterKeyFromValue(value, 'master key');
  try {
    return kek.id;
  } finally {
    kek.destroy();
  }
}
