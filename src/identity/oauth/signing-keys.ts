/**
 * The authorization server's signing keys. Private keys are generated here (node:crypto),
 * envelope-encrypted before they reach the store and decrypted only into KeyObjects held in
 * memory. The newest non-superseded key signs; a rotation supersedes the others, which stay in
 * the JWKS until every token they signed has expired (token TTL + clock skew + one key refresh
 * interval, since other instances may sign with the old key until their next refresh), then
 * are retired and their private keys erased.
 *
 * Each instance re-reads the keys every `refreshIntervalMs`, and at once (rate-limited) when a
 * token names a kid it does not know, so a rotation made by the CLI or another instance is
 * picked up without a restart.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';
import type { Envelope } from '../../crypto/envelope.ts';
import type { Binding } from '../../crypto/envelope-format.ts';
import type { OAuthSigningKeyRecord } from '../../store/oauth-records.ts';
import type { Store } from '../../store/store.ts';
import { type Jose, loadJose } from '../jose-loader.ts';
import { type KeySource, KeysUnavailable, NoMatchingKey } from '../jwt/key-source.ts';
import type { OAuthSigningAlgorithm } from './config-types.ts';

/** Signing keys belong to no tenant; their data key is the system one. */
export const SYSTEM_TENANT = '_system';
const MIN_UNKNOWN_KID_REFRESH_MS = 1000;

export interface SigningKey {
  readonly kid: string;
  readonly alg: OAuthSigningAlgorithm;
  readonly privateKey: KeyObject;
}

export interface SigningKeyRing {
  /** The key that signs new tokens (re-read first when the last read is older than the refresh interval). */
  current(): Promise<SigningKey>;
  /** Public keys of every key not yet retired (current and superseded). */
  jwks(): Promise<JSONWebKeySet>;
  /** Verification keys for the resource-server verifier: no HTTP, straight from the store. */
  readonly keySource: KeySource;
  /** Re-reads the keys now (and retires keys whose overlap has ended). */
  refresh(): Promise<void>;
}

export interface SigningKeyRingOptions {
  readonly store: Store;
  readonly envelope: Envelope;
  readonly refreshIntervalMs: number;
  readonly now?: () => number;
}

function binding(kid: string): Binding {
  return { tenant: SYSTEM_TENANT, table: 'oauth_signing_keys', row: kid, column: 'private_key' };
}

export function createSigningKeyRing(opts: SigningKeyRingOptions): SigningKeyRing {
  const { store, envelope } = opts;
  const now = opts.now ?? Date.now;
  if (!(opts.refreshIntervalMs >= 1000)) throw new Error('signing keys: refreshIntervalMs must be >= 1000');
  let loadedAt: number | undefined;
  let lastAttempt = 0;
  let signer: SigningKey | undefined;
  let published: JSONWebKeySet = { keys: [] };
  let verifyKeys: ReturnType<Jose['createLocalJWKSet']> | undefined;
  let inFlight: Promise<void> | undefined;

  async function load(): Promise<void> {
    lastAttempt = now();
    // Loaded before the store is read, so the signer and the keys that verify it change together.
    const { createLocalJWKSet } = await loadJose();
    await store.retireOAuthSigningKeys(new Date(now()).toISOString());
    const records = await store.listOAuthSigningKeys();
    const active = records.filter((r) => r.supersededAt === null);
    const newest = active.at(-1);
    if (newest === undefined)
      throw new KeysUnavailable('no current OAuth signing key in the store (run: portcullis oauth rotate-signing-key)');
    if (signer?.kid !== newest.kid) signer = await decryptKey(envelope, newest);
    published = { keys: records.map((r) => JSON.parse(r.publicJwk) as JWK) };
    verifyKeys = createLocalJWKSet(published);
    loadedAt = now();
  }

  function refresh(): Promise<void> {
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  async function fresh(): Promise<void> {
    if (loadedAt !== undefined && now() - loadedAt < opts.refreshIntervalMs) return;
    try {
      await refresh();
    } catch (err) {
      // Store briefly unreachable: keep signing and verifying with the keys already loaded (they
      // are still valid keys; revocation checks read the store themselves and fail closed).
      if (signer === undefined) throw err;
    }
  }

  return {
    refresh,
    async current() {
      await fresh();
      return signer!;
    },
    async jwks() {
      await fresh();
      return published;
    },
    keySource: {
      async resolve(header) {
        await fresh();
        try {
          return await verifyKeys!(header);
        } catch (err) {
          // jose is loaded already (it built `verifyKeys`); its error class marks an unknown kid.
          const { errors } = await loadJose();
          if (!(err instanceof errors.JWKSNoMatchingKey))
            throw new NoMatchingKey('no single own signing key matches the token header');
        }
        // A key made by a rotation on another instance (or the CLI) since our last read.
        if (now() - lastAttempt < MIN_UNKNOWN_KID_REFRESH_MS) throw new NoMatchingKey('unknown kid');
        await refresh();
        try {
          return await verifyKeys!(header);
        } catch {
          throw new NoMatchingKey('unknown kid');
        }
      },
    },
  };
}

async function decryptKey(envelope: Envelope, r: OAuthSigningKeyRecord): Promise<SigningKey> {
  if (r.privateKey === null) throw new KeysUnavailable(`signing key ${r.kid} has no private key`);
  const der = await envelope.decrypt(binding(r.kid), Buffer.from(r.privateKey, 'base64'));
  try {
    return {
      kid: r.kid,
      alg: r.alg as OAuthSigningAlgorithm,
      privateKey: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }),
    };
  } finally {
    der.fill(0);
  }
}

/** A new key pair, its private half encrypted, ready to insert (kid = RFC 7638 thumbprint). */
export async function generateSigningKey(
  envelope: Envelope,
  alg: OAuthSigningAlgorithm,
  at: Date,
): Promise<OAuthSigningKeyRecord> {
  const pair = alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = createPublicKey(pair.privateKey).export({ format: 'jwk' }) as JWK;
  const { calculateJwkThumbprint } = await loadJose();
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  const der = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
  let ciphertext: Buffer;
  try {
    ciphertext = await envelope.encrypt(binding(kid), der);
  } finally {
    der.fill(0);
  }
  return {
    kid,
    alg,
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
    privateKey: ciphertext.toString('base64'),
    createdAt: at.toISOString(),
    supersededAt: null,
    retireAfter: null,
    retiredAt: null,
  };
}

/** Creates the first key when there is no current one (gateway start). Returns its kid, or undefined when one existed. */
export async function ensureSigningKey(
  store: Store,
  envelope: Envelope,
  alg: OAuthSigningAlgorithm,
  at = new Date(),
): Promise<string | undefined> {
  const keys = await store.listOAuthSigningKeys();
  if (keys.some((k) => k.supersededAt === null)) return undefined;
  const key = await generateSigningKey(envelope, alg, at);
  await store.insertOAuthSigningKey(key);
  return key.kid;
}

/** The publication overlap of a superseded key: every token it may still sign has expired by then. */
export function overlapMs(cfg: { tokenTtlS: number; clockSkewS: number; keyRefreshIntervalS: number }): number {
  return (cfg.tokenTtlS + cfg.clockSkewS + cfg.keyRefreshIntervalS) * 1000;
}

/** Makes a new current key; the others stay published for `overlap` ms, then are retired. */
export async function rotateSigningKey(
  store: Store,
  envelope: Envelope,
  alg: OAuthSigningAlgorithm,
  overlap: number,
  at = new Date(),
): Promise<{ kid: string; superseded: number; retired: number; retireAfter: string }> {
  const key = await generateSigningKey(envelope, alg, at);
  await store.insertOAuthSigningKey(key);
  const retireAfter = new Date(at.getTime() + overlap).toISOString();
  const superseded = await store.supersedeOAuthSigningKeys(key.kid, at.toISOString(), retireAfter);
  const retired = await store.retireOAuthSigningKeys(at.toISOString());
  return { kid: key.kid, superseded, retired, retireAfter };
}
