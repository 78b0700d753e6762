// Overview: requests, errors, latency, tokens and cost over time (GET /admin/v1/usage/series),
// in total or split by team, model, key or provider.
import { useMemo, useState } from 'preact/hooks';
import { api, qs } from './api.js';
import { Chart } from './chart.js';
import { dollars, html, Loading, ms, num, RangePicker, rangeOf, usd, useLoad } from './ui.js';

const GROUPS = [
  ['none', 'Everything'],
  ['team', 'Team'],
  ['model', 'Model'],
  ['key', 'API key'],
  ['provider', 'Provider'],
];

function Stat({ label, value }) {
  return html`<div class="stat"><span class="stat-label">${label}</span><span class="stat-value">${value}</span></div>`;
}

export function Overview() {
  const [range, setRange] = useState('24h');
  const [groupBy, setGroupBy] = useState('none');
  const state = useLoad(
    () => api('GET', `/usage/series${qs({ ...rangeOf(range), group_by: groupBy })}`),
    [range, groupBy],
  );
  const d = state.data;
  const charts = useMemo(() => {
    if (!d) return null;
    const split = (field, scale = (v) => v) =>
      d.group_by === 'none'
        ? [{ label: 'all', values: d.series[field].map(scale) }]
        : d.groups.map((g) => ({ label: g.key, values: g[field].map(scale) }));
    return {
      requests: split('requests'),
      errors: split('errors'),
      latency: [
        { label: 'p50', values: d.series.p50_ms },
        { label: 'p99', values: d.series.p99_ms },
      ],
      tokens: split('total_tokens'),
      cost: split('cost_micros', (v) => v / 1e6),
    };
  }, [d]);
  return html`<section aria-label="Traffic over time">
    <div class="toolbar">
      <${RangePicker} value=${range} onChange=${setRange} />
      <label for="group-by">Split by</label>
      <select id="group-by" value=${groupBy} onChange=${(e) => setGroupBy(e.currentTarget.value)}>
        ${GROUPS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
      </select>
      <button type="button" class="secondary" onClick=${state.reload}>Refresh</button>
    </div>
    <${Loading} state=${state} />
    ${
      d
        ? html`
      <div class="stats" data-stats>
        <${Stat} label="Requests" value=${num(d.total.requests)} />
        <${Stat} label="Errors" value=${num(d.total.errors)} />
        <${Stat} label="p50 latency" value=${ms(d.total.p50_ms)} />
        <${Stat} label="p99 latency" value=${ms(d.total.p99_ms)} />
        <${Stat} label="Tokens" value=${num(d.total.total_tokens)} />
        <${Stat} label="Cost" value=${usd(d.total.cost_micros)} />
      </div>
      ${d.truncated ? html`<p class="notice">The range holds more than ${num(d.records)} requests; the oldest buckets are incomplete. Narrow the range.</p>` : null}
      <p class="muted">Buckets of ${d.bucket_s >= 3600 ? `${d.bucket_s / 3600} h` : `${d.bucket_s / 60} min`}; tenant <code>${d.tenant_id}</code>${d.team_id ? html`, team <code>${d.team_id}</code>` : ''} (an administrator sees their own tenant).</p>
      <div class="charts">
        <${Chart} title="Requests" times=${d.buckets} lines=${charts.requests} format=${num} summary=${`${d.total.requests} requests`} />
        <${Chart} title="Errors (status 400 and above)" times=${d.buckets} lines=${charts.errors} format=${num} summary=${`${d.total.errors} errors`} />
        <${Chart} sparse title="Latency" times=${d.buckets} lines=${charts.latency} format=${(v) => `${Math.round(v)} ms`} summary=${`p50 ${ms(d.total.p50_ms)}, p99 ${ms(d.total.p99_ms)}`} />
        <${Chart} title="Tokens" times=${d.buckets} lines=${charts.tokens} format=${num} summary=${`${d.total.total_tokens} tokens`} />
        <${Chart} title="Cost (USD)" times=${d.buckets} lines=${charts.cost} format=${(v) => `$${dollars(v)}`} summary=${usd(d.total.cost_micros)} />
      </div>`
        : null
    }
  </section>`;
}
