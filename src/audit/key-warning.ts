/**
 * The warning for a generated checkpoint key. A generated key sits on the same machine as the
 * data, readable by the gateway's user: whoever gets that file (a backup, a copied data
 * folder, the host) can sign checkpoints over a forged log. Fine for a demo; in production the
 * key should come from a secret store (`audit.signing_key`). Said at start and by `config check`.
 */
import { existsSync } from 'node:fs';
import type { AuditConfig } from './config-types.ts';

export function generatedKeyWarning(audit: AuditConfig): string | undefined {
  if (audit.signingKeyPem !== undefined) return undefined;
  const where =
    existsSync(audit.generatedKeyPath) || !existsSync(audit.legacyKeyPath)
      ? audit.generatedKeyPath
      : `${audit.legacyKeyPath}, beside the audit log (moved to ${audit.generatedKeyPath} at the next start)`;
  const shared =
    audit.postgres === undefined
      ? ''
      : "; with store.driver postgres every instance generates its own key, so verify needs each instance's public key";
  return (
    `audit.signing_key is not configured: audit checkpoints are signed with a key generated on this machine (${where})${shared}. ` +
    'Whoever can read that file can sign a forged log; in production set audit.signing_key to a ${file:…} or ${ENV} reference kept off the machines that hold the data'
  );
}
