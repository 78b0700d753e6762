// Security, continued: guardrail decisions (GET /admin/v1/guard/decisions) with filters and a
// timeline, and the compliance report download (GET /admin/v1/compliance/report).
import { useState } from 'preact/hooks';
import { api, download, qs } from './api.js';
import { Chart } from './chart.js';
import { ErrorNote, html, Loading, num, RANGES, RangePicker, rangeOf, Table, useLoad, when } from './ui.js';

const ACTIONS = [
  ['', 'Any action'],
  ['block', 'Blocked'],
  ['redact', 'Redacted'],
  ['flag', 'Flagged'],
  ['error', 'Detector failed'],
];
const BADGE = { block: 'refused', error: 'refused', redact: 'warn', flag: 'warn' };

export function GuardDecisions() {
  const [range, setRange] = useState('24h');
  const [action, setAction] = useState('');
  const [detector, setDetector] = useState('');
  const [model, setModel] = useState('');
  const [applied, setApplied] = useState({ detector: '', model: '' });
  const state = useLoad(
    () => api('GET', `/guard/decisions${qs({ ...rangeOf(range), action, ...applied, limit: 200 })}`),
    [range, action, applied],
  );
  const d = state.data;
  const apply = (e) => {
    e.preventDefault();
    setApplied({ detector: detector.trim(), model: model.trim() });
  };
  return html`<section aria-labelledby="guard-title">
    <h2 id="guard-title">Guardrail decisions</h2>
    <form class="toolbar" onSubmit=${apply} aria-label="Filter guardrail decisions">
      <${RangePicker} id="guard-range" value=${range} onChange=${setRange} />
      <label for="guard-action">Action</label>
      <select id="guard-action" value=${action} onChange=${(e) => setAction(e.currentTarget.value)}>
        ${ACTIONS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
      </select>
      <label for="guard-detector">Detector</label>
      <input id="guard-detector" value=${detector} maxlength="128" onInput=${(e) => setDetector(e.currentTarget.value)} />
      <label for="guard-model">Model</label>
      <input id="guard-model" value=${model} maxlength="128" onInput=${(e) => setModel(e.currentTarget.value)} />
      <button type="submit" class="secondary">Apply</button>
    </form>
    <${Loading} state=${state} />
    ${
      d
        ? html`
      <p class="muted" data-guard-summary>${num(d.total)} requests a guardrail acted on${
        d.counts.length ? `: ${d.counts.map((c) => `${c.detector} ${c.action} ${c.count}`).join(', ')}` : ''
      }.</p>
      ${d.truncated ? html`<p class="notice">The range holds more request records than are read at once; narrow it.</p>` : null}
      <${Chart} title="Guardrail decisions over time" times=${d.timeline.buckets} lines=${[{ label: 'requests', values: d.timeline.requests }]} format=${num} summary=${`${d.total} requests`} />
      <${Table} caption=${`${d.data.length} of ${d.total} requests, newest first`} rowKey=${(r) => r.request_id} rows=${d.data} empty="No guardrail decisions in this range." columns=${[
        { label: 'Time', value: (r) => when(r.time) },
        {
          label: 'Decisions',
          value: (r) =>
            html`<ul class="plain">${r.decisions.map((x) => html`<li><code>${x.detector}</code> <span class=${`badge ${BADGE[x.action] ?? ''}`}>${x.action}</span></li>`)}</ul>`,
        },
        { label: 'Status', value: (r) => (r.error_code ? html`${r.status} <code>${r.error_code}</code>` : r.status) },
        { label: 'Model', value: (r) => (r.model ? html`<code>${r.model}</code>` : '–') },
        { label: 'API key', value: (r) => (r.key_id ? html`<code>${r.key_id}</code>` : '–') },
        { label: 'Request', value: (r) => html`<code>${r.request_id}</code>` },
      ]} />`
        : null
    }
  </section>`;
}

const PERIODS = RANGES.filter((r) => r.id === '24h' || r.id === '7d' || r.id === '30d');

export function ComplianceReport() {
  const [period, setPeriod] = useState('30d');
  const [format, setFormat] = useState('markdown');
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(null);
  const take = async (e) => {
    e.preventDefault();
    setError(null);
    setSaved(null);
    try {
      setSaved(await download(`/compliance/report${qs({ ...rangeOf(period), format })}`, 'compliance-report'));
    } catch (err) {
      setError(err);
    }
  };
  return html`<section aria-labelledby="compliance-title">
    <h2 id="compliance-title">Compliance report</h2>
    <p class="muted">Evidence for SOC 2, ISO 27001 and GDPR reviews, computed now from this tenant's keys, admin users and audit records and the gateway's configuration. Taking it is recorded in the audit log.</p>
    <form class="toolbar" onSubmit=${take} aria-label="Download the compliance report">
      <label for="compliance-period">Period</label>
      <select id="compliance-period" value=${period} onChange=${(e) => setPeriod(e.currentTarget.value)}>
        ${PERIODS.map((r) => html`<option value=${r.id}>${r.label}</option>`)}
      </select>
      <label for="compliance-format">Format</label>
      <select id="compliance-format" value=${format} onChange=${(e) => setFormat(e.currentTarget.value)}>
        <option value="markdown">Markdown</option>
        <option value="json">JSON</option>
      </select>
      <button type="submit">Download report</button>
    </form>
    <${ErrorNote} error=${error} />
    ${saved ? html`<p role="status" class="verified">Saved <code>${saved}</code>.</p>` : null}
  </section>`;
}
