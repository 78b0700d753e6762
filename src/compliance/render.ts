/** The compliance report as Markdown (for people) and JSON (for tools); same content. */
import type { ControlResult, ControlStatus } from './controls.ts';
import type { ComplianceFacts } from './facts.ts';

export interface ComplianceReport {
  readonly facts: ComplianceFacts;
  readonly controls: readonly ControlResult[];
  readonly summary: Readonly<Record<ControlStatus, number>>;
}

export function buildReport(facts: ComplianceFacts, controls: readonly ControlResult[]): ComplianceReport {
  const summary: Record<ControlStatus, number> = { met: 0, partial: 0, not_met: 0, info: 0 };
  for (const c of controls) summary[c.status]++;
  return { facts, controls, summary };
}

export function renderJson(report: ComplianceReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

const LABEL: Record<ControlStatus, string> = { met: 'MET', partial: 'PARTIAL', not_met: 'NOT MET', info: 'INFO' };

/** Table cells and list items never let stored text (labels, emails) break the Markdown. */
function md(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ');
}

export function renderMarkdown(report: ComplianceReport): string {
  const f = report.facts;
  const s = report.summary;
  const out: string[] = [
    '# Portcullis compliance evidence report',
    '',
    `- Period: ${f.period.from} to ${f.period.to}`,
    f.tenantId === undefined
      ? '- Scope: the whole gateway'
      : `- Scope: tenant ${md(f.tenantId)} (its keys, admin users and audit records; configuration and the audit chain's integrity are gateway-wide)`,
    `- Generated: ${f.generatedAt} by Portcullis ${md(f.gatewayVersion)} from ${md(f.configSource)}`,
    `- Controls: ${s.met} met, ${s.partial} partial, ${s.not_met} not met, ${s.info} informational`,
    '',
    "Every figure below was computed from the gateway's configuration, store and audit log when",
    'this report was generated.',
    '',
    '| Control | Status | Framework references |',
    '| --- | --- | --- |',
    ...report.controls.map((c) => `| ${md(c.title)} | ${LABEL[c.status]} | ${c.refs.join('; ')} |`),
    '',
  ];
  for (const c of report.controls) {
    out.push(`## ${md(c.title)} — ${LABEL[c.status]}`, '', `References: ${c.refs.join('; ')}`, '');
    for (const e of c.evidence) out.push(`- ${md(e)}`);
    out.push('');
  }
  return `${out.join('\n')}`;
}
