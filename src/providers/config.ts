/** The `providers` map: provider id → how to reach it. */
import { MAX_TIMEOUT_MS } from '../config/duration.ts';
import { readHeaders } from '../config/headers.ts';
import { keysOf } from '../config/keys.ts';
import { checkBaseUrl } from '../config/network-checks.ts';
import type { ConfigReader, Located } from '../config/reader.ts';
import { resolveSecretReference, type SecretContext } from '../config/secrets.ts';
import { readUpstreamTls } from '../tls/config.ts';
import { PROVIDER_SPEC } from './config.keys.ts';
import type { ProviderConfig } from './config-types.ts';
import { PROVIDER_KINDS } from './contract.ts';

const PROVIDER_KEYS = keysOf(PROVIDER_SPEC);
const PROVIDER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export function readProviders(r: ConfigReader, at: Located, secrets: SecretContext): Map<string, ProviderConfig> {
  const out = new Map<string, ProviderConfig>();
  if (at.node === null) return out;
  const entries = r.entries(at, null);
  for (const [id, spec] of entries ?? []) {
    if (!PROVIDER_ID.test(id)) {
      r.report(spec.anchor, 'provider ids are 1..64 characters of letters, digits, ".", "_" and "-"', spec.path);
    }
    out.set(id, readProvider(r, id, spec, secrets));
  }
  return out;
}

function readProvider(r: ConfigReader, id: string, at: Located, secrets: SecretContext): ProviderConfig {
  if (at.node === null) r.report(at, 'expected a map with at least kind and base_url');
  const m = r.entries(at, PROVIDER_KEYS);
  const f = (key: (typeof PROVIDER_KEYS)[number]): Located => r.field(m, at, key);
  const allowPrivateNetwork = r.bool(f('allow_private_network'), false);
  let baseUrl = '';
  const urlText = r.str(f('base_url'));
  if (urlText !== undefined) {
    const checked = checkBaseUrl(urlText, allowPrivateNetwork ?? false);
    for (const e of checked.errors) r.report(f('base_url'), e);
    baseUrl = checked.url ?? '';
  }
  let apiKey: string | undefined;
  const keyAt = f('api_key');
  if (keyAt.node !== null) {
    const text = r.rawStr(keyAt);
    if (text !== undefined) {
      const res = resolveSecretReference(text, secrets);
      if (res.ok) apiKey = res.value;
      else r.report(keyAt, res.error);
    }
  }
  const headerSecrets: string[] = [];
  const headers = readHeaders(r, f('headers'), secrets, headerSecrets);
  const tls = readUpstreamTls(r, f('tls'), secrets.baseDir);
  if (tls !== undefined && baseUrl.startsWith('http:'))
    r.report(f('tls'), 'applies to https base URLs only (base_url is http)');
  return {
    id,
    kind: r.oneOf(f('kind'), PROVIDER_KINDS) ?? 'openai',
    baseUrl,
    apiKey,
    headers,
    ...(headerSecrets.length > 0 ? { headerSecrets } : {}),
    allowPrivateNetwork: allowPrivateNetwork ?? false,
    maxConnections: r.int(f('max_connections'), { min: 1, max: 4096, default: 64 }) ?? 0,
    connectTimeoutMs: r.int(f('connect_timeout_ms'), { min: 1, max: MAX_TIMEOUT_MS, default: 5_000 }) ?? 0,
    ...(tls === undefined ? {} : { tls }),
  };
}
