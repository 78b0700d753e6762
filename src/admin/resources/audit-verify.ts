/**
 * The audit log's integrity for the admin API: GET /admin/v1/audit/verify (action `audit.read`)
 * checks the whole hash chain and every signed checkpoint (as `portcullis audit verify` does)
 * against the configured signing key, in a worker thread so the gateway keeps serving.
 *
 * The file holds every tenant's records, so the answer says only whether it is intact and what
 * kind of problem was found, never counts or record numbers (which would tell one tenant about
 * the others' traffic); the operator's `portcullis audit verify` names the record. One check
 * runs at a time and its result is reused for VERIFY_CACHE_MS, so the route cannot be used to
 * keep the machine busy.
 */

import type { VerifyResult } from '../../audit/verify.ts';
import { verifyAuditInWorker } from '../../audit/verify-in-worker.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import type { AdminRoute } from '../types.ts';
import { type AdminResourceDeps, nowOf, principalOf } from './deps.ts';
import { emptyBody, queryParams } from './input.ts';

export const VERIFY_CACHE_MS = 60_000;

const EMPTY: VerifyResult = {
  ok: true,
  records: 0,
  head: { seq: 0, hash: '' },
  checkpoints: 0,
  lastCheckpointSeq: 0,
  unsignedRecords: 0,
  prunedThroughSeq: 0,
};

type Verify = (path: string, keys: readonly string[]) => Promise<VerifyResult>;

export function createAuditVerifyRoutes(deps: AdminResourceDeps, verify: Verify = verifyAuditInWorker): AdminRoute[] {
  let last: { at: number; checkedAt: string; result: Promise<VerifyResult> } | undefined;
  return [
    {
      method: 'GET',
      path: '/admin/v1/audit/verify',
      auth: 'principal',
      action: 'audit.read',
      async handle(req) {
        principalOf(req);
        emptyBody(req.body);
        queryParams(req.query, []);
        const now = nowOf(deps);
        if (last === undefined || now.getTime() - last.at >= VERIFY_CACHE_MS) {
          const keys = deps.audit.publicKey === undefined ? [] : [deps.audit.publicKey];
          // With PostgreSQL: every instance's chain; the first bad one decides (kinds only, as for the file).
          const reader = deps.auditReader;
          const result =
            reader === undefined
              ? verify(deps.auditPath, keys)
              : reader
                  .verifyChains({ trustedPublicKeys: keys, allowUnsignedTail: true })
                  .then((chains) => chains.find((c) => !c.ok) ?? chains[0] ?? EMPTY);
          const run = { at: now.getTime(), checkedAt: now.toISOString(), result };
          last = run;
          // A failed check is not remembered: the next call tries again.
          run.result.catch(() => {
            if (last === run) last = undefined;
          });
        }
        let result: VerifyResult;
        const checkedAt = last.checkedAt;
        try {
          result = await last.result;
        } catch (err) {
          throw gatewayError('audit.unavailable', { cause: err });
        }
        return {
          status: 200,
          body: {
            ok: result.ok,
            status: result.ok ? 'valid' : 'tampered',
            checked_at: checkedAt,
            finding: result.finding === undefined ? null : { kind: result.finding.kind },
          },
        };
      },
    },
  ];
}
