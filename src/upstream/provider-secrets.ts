/**
 * The configured provider credentials, by value: each provider's `api_key` and whatever the
 * `${…}` references in its `headers` resolved to. Text a provider sends back (error messages,
 * bodies, anything read while parsing its answer) is scrubbed of these and of every credential
 * shape before it is logged, stored or traced; the logger also removes them from every line.
 */
import { createCredentialScrubber, type Scrubber } from '../core/credential-scrubber.ts';
import type { ProviderConfig } from '../providers/config-types.ts';
import type { AttemptFailure } from './failure.ts';

export function providerSecretValues(providers: Iterable<ProviderConfig>): string[] {
  const out: string[] = [];
  for (const p of providers) {
    if (p.apiKey !== undefined) out.push(p.apiKey);
    out.push(...(p.headerSecrets ?? []));
  }
  return out;
}

export function providerTextScrubber(providers: Iterable<ProviderConfig>): Scrubber {
  return createCredentialScrubber(providerSecretValues(providers));
}

/** The failure with every provider-originated or exception-derived text field scrubbed. */
export function scrubFailure(f: AttemptFailure, scrub: Scrubber): AttemptFailure {
  return {
    ...f,
    providerCode: f.providerCode === undefined ? undefined : scrub(f.providerCode),
    providerMessage: f.providerMessage === undefined ? undefined : scrub(f.providerMessage),
    detail: f.detail === undefined ? undefined : scrub(f.detail),
  };
}
