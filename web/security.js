// Security: security events (threat alerts, lockouts, failed sign-ins) with filters and a
// timeline, guardrail decisions, the audit log with its export, and the compliance report.
import { useMemo, useState } from 'preact/hooks';
import { api, download, qs } from './api.js';
import { Chart } from './chart.js';
import { ComplianceReport, GuardDecisions } from './security-guard.js';
import { ErrorNote, html, Loading, RangePicker, rangeOf, Table, useLoad, when } from './ui.js';

const KINDS = [
  ['all', 'All events', () => true],
  ['threat', 'Threat alerts', (e) => e.action.startsWith('security.')],
  ['lockout', 'Lockouts', (e) => e.action.endsWith('lockout') || e.action.includes('locked')],
  ['signin', 'Failed sign-ins', (e) => e.action.startsWith('admin.login')],
  ['auth', 'Other authentication', (e) => e.action.startsWith('auth.') && !e.action.endsWith('lockout')],
];

function detail(e) {
  const m = e.metadata ?? {};
  const parts = [];
  for (const k of ['rule', 'severity', 'action', 'until', 'source_ip', 'client_ip', 'email'])
    if (m[k] !== undefined && m[k] !== null) parts.push(`${k}: ${m[k]}`);
  return parts.join(', ') || '–';
}

async function allPages(path, params, max = 5000) {
  const out = [];
  let after;
  for (;;) {
    const page = await api('GET', `${path}${qs({ ...params, limit: 1000, after })}`);
    out.push(...page.data);
    if (page.next_after === null || out.length >= max) return { data: out, more: page.next_after !== null };
    after = page.next_after;
  }
}

function timeline(events, rangeId) {
  const { from, to } = rangeOf(rangeId);
  const start = Date.parse(from);
  const span = Date.parse(to) - start;
  const n = 48;
  const width = span / n;
  const counts = new Array(n).fill(0);
  for (const e of events) {
    const i = Math.floor((Date.parse(e.time) - start) / width);
    if (i >= 0 && i < n) counts[i] += 1;
  }
  return { times: counts.map((_, i) => new Date(start + i * width).toISOString()), counts };
}

function Events() {
  const [range, setRange] = useState('24h');
  const [kind, setKind] = useState('all');
  const [text, setText] = useState('');
  const state = useLoad(() => allPages('/security-events', rangeOf(range)), [range]);
  const rows = useMemo(() => {
    const test = KINDS.find((k) => k[0] === kind)[2];
    const t = text.trim().toLowerCase();
    return (state.data?.data ?? [])
      .filter((e) => test(e) && (t === '' || JSON.stringify(e).toLowerCase().includes(t)))
      .reverse();
  }, [state.data, kind, text]);
  const line = useMemo(() => timeline(rows, range), [rows, range]);
  return html`<section aria-labelledby="events-title">
    <h2 id="events-title">Security events</h2>
    <div class="toolbar">
      <${RangePicker} id="events-range" value=${range} onChange=${setRange} />
      <label for="events-kind">Kind</label>
      <select id="events-kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
        ${KINDS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
      </select>
      <label for="events-text">Contains</label>
      <input id="events-text" type="search" value=${text} onInput=${(e) => setText(e.currentTarget.value)} />
      <button type="button" class="secondary" onClick=${state.reload}>Refresh</button>
    </div>
    <${Loading} state=${state} />
    ${
      state.data
        ? html`
      <${Chart} title="Security events over time" times=${line.times} lines=${[{ label: 'events', values: line.counts }]} summary=${`${rows.length} events`} />
      ${state.data.more ? html`<p class="notice">Only the first 5000 events of the range are shown; narrow it.</p>` : null}
      <${Table} caption=${`${rows.length} events, newest first`} rowKey=${(r) => r.seq} rows=${rows.slice(0, 500)} empty="No security events in this range." columns=${[
        { label: 'Time', value: (r) => when(r.time) },
        { label: 'Event', value: (r) => html`<code>${r.action}</code>` },
        { label: 'Decision', value: (r) => html`<span class=${`badge ${r.decision}`}>${r.decision}</span>` },
        { label: 'Actor', value: (r) => `${r.actor.kind}${r.actor.id ? ` ${r.actor.id}` : ''}` },
        { label: 'Target', value: (r) => r.target ?? '–' },
        { label: 'Details', value: detail },
      ]} />`
        : null
    }
  </section>`;
}

function Integrity() {
  const state = useLoad(() => api('GET', '/audit/verify'), []);
  const v = state.data;
  return html`<div class="integrity" data-audit-verify>
    <${Loading} state=${state} />
    ${
      v
        ? html`<p class=${v.ok ? 'verified' : 'error'} role="status">
      <strong>Integrity: ${v.ok ? 'valid' : 'TAMPERED'}</strong>
      ${v.ok ? ' (hash chain and signed checkpoints check out)' : html` (first problem: <code>${v.finding?.kind}</code>; run <code>portcullis audit verify</code> to find the record)`},
      checked ${when(v.checked_at)}.</p>`
        : null
    }
  </div>`;
}

function AuditLog() {
  const [range, setRange] = useState('24h');
  const [error, setError] = useState(null);
  const state = useLoad(() => api('GET', `/audit${qs({ ...rangeOf(range), limit: 1000 })}`), [range]);
  const exportAs = async (format) => {
    setError(null);
    try {
      await download(`/audit/export${qs({ ...rangeOf(range), format })}`, `audit.${format}`);
    } catch (err) {
      setError(err);
    }
  };
  const rows = (state.data?.data ?? []).slice().reverse();
  return html`<section aria-labelledby="audit-title">
    <h2 id="audit-title">Audit log</h2>
    <${Integrity} />
    <div class="toolbar">
      <${RangePicker} id="audit-range" value=${range} onChange=${setRange} />
      <button type="button" class="secondary" onClick=${() => exportAs('jsonl')}>Export JSON lines</button>
      <button type="button" class="secondary" onClick=${() => exportAs('csv')}>Export CSV</button>
    </div>
    <${ErrorNote} error=${error} />
    <${Loading} state=${state} />
    ${
      state.data
        ? html`<${Table} caption=${`${rows.length} records${state.data.next_after !== null ? ' (the oldest 1000 of the range; export for all)' : ''}, newest first`}
      rowKey=${(r) => r.seq} rows=${rows} empty="No audit records in this range." columns=${[
        { label: '#', value: (r) => r.seq },
        { label: 'Time', value: (r) => when(r.time) },
        { label: 'Action', value: (r) => html`<code>${r.action}</code>` },
        {
          label: 'Decision',
          value: (r) =>
            html`<span class=${`badge ${r.decision}`}>${r.decision}</span>${r.reason ? html` <code>${r.reason}</code>` : null}`,
        },
        { label: 'Actor', value: (r) => `${r.actor.kind}${r.actor.id ? ` ${r.actor.id}` : ''}` },
        { label: 'Target', value: (r) => r.target ?? '–' },
      ]} />`
        : null
    }
  </section>`;
}

export function Security({ can }) {
  return html`${can('security_event.read') ? html`<${Events} /><${GuardDecisions} />` : null}${
    can('audit.read') ? html`<${AuditLog} />` : null
  }${can('compliance.read') ? html`<${ComplianceReport} />` : null}`;
}
