/**
 * The compliance evidence report for the caller's tenant: GET /admin/v1/compliance/report
 * (action `compliance.read`), the same report as `portcullis report compliance` scoped to one
 * tenant: its keys, admin users and audit records of the period, with the gateway-wide
 * configuration and the audit chain's integrity. As with the CLI, taking the report is itself
 * an audit record (`report.compliance`), written before the report leaves; no record, no report.
 */

import { GATEWAY_VERSION } from '../../app/version.ts';
import type { AuditRecord } from '../../audit/types.ts';
import { collectComplianceFacts } from '../../compliance/collect.ts';
import { evaluateControls } from '../../compliance/controls.ts';
import type { ComplianceFacts } from '../../compliance/facts.ts';
import { buildReport, renderJson, renderMarkdown } from '../../compliance/render.ts';
import { gatewayError } from '../../errors/gateway-error.ts';
import { invalid } from '../../surfaces/validation.ts';
import type { AdminRoute } from '../types.ts';
import { cursorOf, range, readTenant } from './audit.ts';
import {
  type AdminResourceDeps,
  adminAuditEntry,
  assertAuditWritable,
  nowOf,
  principalOf,
  recordChange,
} from './deps.ts';
import { emptyBody, queryParams } from './input.ts';

export const COMPLIANCE_FORMATS = ['markdown', 'json'] as const;
/** Audit records counted for one report at most; a busier period is refused (choose a shorter one). */
export const COMPLIANCE_MAX_RECORDS = 1_000_000;
const PAGE = 10_000;

type Counts = Pick<ComplianceFacts['audit'], 'actionsInPeriod' | 'securityEvents'>;

/** The tenant's audit records of the period, counted as the CLI's report counts the whole log. */
async function tenantCounts(deps: AdminResourceDeps, tenantId: string, from: Date, to: Date): Promise<Counts> {
  const actions = new Map<string, number>();
  const alerts = new Map<string, number>();
  let after = 0;
  let seen = 0;
  for (;;) {
    const page: AuditRecord[] = await readTenant(
      deps,
      { tenantId, range: { from, to }, afterSeq: after, limit: PAGE },
      false,
    );
    for (const r of page) {
      const a = `${r.action}\u0000${r.decision}`;
      actions.set(a, (actions.get(a) ?? 0) + 1);
      if (r.action === 'security.alert') {
        const m = JSON.parse(r.metadata) as Record<string, unknown>;
        const k = `${String(m.rule ?? 'unknown')}\u0000${String(m.action ?? 'unknown')}`;
        alerts.set(k, (alerts.get(k) ?? 0) + 1);
      }
    }
    seen += page.length;
    if (page.length < PAGE) break;
    if (seen >= COMPLIANCE_MAX_RECORDS)
      throw invalid(
        'query.to',
        `the period holds more than ${COMPLIANCE_MAX_RECORDS} audit records; choose a shorter one`,
      );
    after = cursorOf(page[page.length - 1]!);
  }
  const split = (k: string) => k.split('\u0000') as [string, string];
  const byCount = <T extends { count: number }>(a: T, b: T) => b.count - a.count;
  return {
    actionsInPeriod: [...actions.entries()]
      .map(([k, count]) => ({ action: split(k)[0], decision: split(k)[1], count }))
      .sort((a, b) => byCount(a, b) || (a.action < b.action ? -1 : 1)),
    securityEvents: [...alerts.entries()]
      .map(([k, count]) => ({ type: `threat.${split(k)[0]}`, handling: split(k)[1], count }))
      .sort(byCount),
  };
}

export function createComplianceRoutes(deps: AdminResourceDeps): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/admin/v1/compliance/report',
      auth: 'principal',
      action: 'compliance.read',
      async handle(req) {
        const principal = principalOf(req);
        emptyBody(req.body);
        const q = queryParams(req.query, ['from', 'to', 'format']);
        const r = range(q, nowOf(deps), true);
        const formatText = q.get('format') ?? 'markdown';
        if (!(COMPLIANCE_FORMATS as readonly string[]).includes(formatText))
          throw invalid('query.format', `expected one of ${COMPLIANCE_FORMATS.join(', ')}`);
        const config = deps.fullConfig;
        // Every gateway wires the config in (src/admin/open.ts); without it there is nothing true to report.
        if (config === undefined) throw gatewayError('internal.error', { params: { requestId: req.requestId } });
        assertAuditWritable(deps);
        const facts = await collectComplianceFacts({
          config,
          store: deps.store,
          from: r.from,
          to: r.to,
          version: GATEWAY_VERSION,
          now: nowOf(deps),
          tenant: { id: principal.tenantId, periodCounts: () => tenantCounts(deps, principal.tenantId, r.from, r.to) },
        });
        const report = buildReport(facts, evaluateControls(facts));
        // Who took the report is in the log before the report leaves, as with the CLI.
        await recordChange(
          deps,
          adminAuditEntry(req, principal, 'report.compliance', null, {
            from: r.from.toISOString(),
            to: r.to.toISOString(),
            format: formatText,
          }),
        );
        const stamp = `${r.from.toISOString().slice(0, 10)}_${r.to.toISOString().slice(0, 10)}`;
        const markdown = formatText === 'markdown';
        return {
          status: 200,
          headers: {
            'content-type': markdown ? 'text/markdown; charset=utf-8' : 'application/json; charset=utf-8',
            'content-disposition': `attachment; filename="compliance_${stamp}.${markdown ? 'md' : 'json'}"`,
          },
          body: markdown ? renderMarkdown(report) : renderJson(report),
        };
      },
    },
  ];
}
