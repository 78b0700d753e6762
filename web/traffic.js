// Traffic: the model routes and upstream providers the config file declares (read-only), and
// this instance's circuit-breaker states.
import { api } from './api.js';
import { html, Loading, Table, useLoad, when } from './ui.js';

function Routes() {
  const state = useLoad(() => api('GET', '/routes'), []);
  return html`<section aria-labelledby="routes-title"><h2 id="routes-title">Model routes</h2><${Loading} state=${state} />
    ${
      state.data
        ? html`<${Table} caption="Model routes (from the config file)" rowKey=${(r) => r.model} rows=${state.data.data} empty="No model routes." columns=${[
            { label: 'Model', value: (r) => html`<code>${r.model}</code>` },
            {
              label: 'Targets (provider → model, priority, weight)',
              value: (r) =>
                html`<ul class="plain">${r.targets.map((t) => html`<li>${t.provider} → <code>${t.model}</code>, p${t.priority}, w${t.weight}</li>`)}</ul>`,
            },
            { label: 'Deadline', value: (r) => `${r.timeout_ms} ms (attempt ${r.attempt_timeout_ms} ms)` },
            { label: 'Retries', value: (r) => `${r.retry.max_attempts} attempts` },
            {
              label: 'Circuit breaker',
              value: (r) =>
                `opens after ${r.circuit_breaker.failure_threshold} failures, for ${r.circuit_breaker.open_ms} ms`,
            },
          ]} />`
        : null
    }
  </section>`;
}

function Providers() {
  const state = useLoad(() => api('GET', '/providers'), []);
  return html`<section aria-labelledby="providers-title"><h2 id="providers-title">Providers</h2><${Loading} state=${state} />
    ${
      state.data
        ? html`<${Table} caption="Upstream providers (from the config file)" rows=${state.data.data} empty="No providers." columns=${[
            { label: 'Id', value: (p) => html`<code>${p.id}</code>` },
            { label: 'Kind', value: (p) => p.kind },
            { label: 'Base URL', value: (p) => html`<code>${p.base_url}</code>` },
            { label: 'Credential', value: (p) => (p.credential_configured ? 'set' : 'none') },
            { label: 'Connections', value: (p) => p.max_connections },
            { label: 'Connect timeout', value: (p) => `${p.connect_timeout_ms} ms` },
            {
              label: 'TLS',
              value: (p) =>
                p.tls
                  ? `${p.tls.custom_ca ? 'custom CA' : 'system CAs'}${p.tls.pinned_keys ? `, ${p.tls.pinned_keys} pinned keys` : ''}`
                  : 'default',
            },
          ]} />`
        : null
    }
  </section>`;
}

const STATE_BADGE = { closed: 'allowed', 'half-open': 'warn', open: 'refused' };

function Breakers() {
  const state = useLoad(() => api('GET', '/breakers'), []);
  return html`<section aria-labelledby="breakers-title"><h2 id="breakers-title">Circuit breakers</h2>
    <p class="muted">This instance's view: a breaker opens after its route's failure threshold and lets one trial call through when its open time is over. Only targets called since the instance started are listed.</p>
    <div class="toolbar"><button type="button" class="secondary" onClick=${state.reload}>Refresh</button></div>
    <${Loading} state=${state} />
    ${
      state.data
        ? html`<${Table} caption="Circuit breakers" rowKey=${(b) => `${b.provider}/${b.model}`} rows=${state.data.data} empty="No upstream has been called yet." columns=${[
            { label: 'Provider', value: (b) => html`<code>${b.provider}</code>` },
            { label: 'Upstream model', value: (b) => html`<code>${b.model}</code>` },
            {
              label: 'State',
              value: (b) => html`<span class=${`badge ${STATE_BADGE[b.state] ?? ''}`}>${b.state}</span>`,
            },
          ]} />`
        : null
    }
  </section>`;
}

function Budgets() {
  const state = useLoad(() => api('GET', '/budgets'), []);
  const d = state.data;
  return html`<section aria-labelledby="budgets-title"><h2 id="budgets-title">Budgets and limits</h2>
    <${Loading} state=${state} />
    ${
      d
        ? html`<${Table} caption="Budgets: spend in the current period" rowKey=${(b) => `${b.rule}/${b.subject}`} rows=${d.budgets} empty="No budget rules are configured." columns=${[
            {
              label: 'Budget',
              value: (b) => html`<code>${b.rule}</code>${b.model ? html` (model ${b.model})` : null}`,
            },
            { label: 'Counts', value: (b) => `${b.scope}${b.subject ? ` ${b.subject}` : ''}` },
            {
              label: 'Spent of limit',
              value: (b) =>
                b.counted
                  ? html`<span class="spend">
          <meter min="0" max="100" low="70" high="90" optimum="0" value=${Math.min(100, b.percent_used)} aria-label=${`${b.rule} ${b.subject}: ${b.percent_used}% used`}></meter>
          $${b.spent_usd} of $${b.limit_usd} (${b.percent_used}%)${Number(b.held_usd) > 0 ? `, $${b.held_usd} held by calls in flight` : ''}</span>`
                  : html`<span class="muted">$${b.limit_usd} per subject${b.truncated ? ` (${b.truncated} more subjects not shown)` : ' (JWT users are not listed)'}</span>`,
            },
            { label: 'Period', value: (b) => (b.period ? html`${when(b.period.start)} – ${when(b.period.end)}` : '–') },
          ]} />
    <${Table} caption="Rate limits (per counter; the tightest applicable rule wins)" rows=${d.rate_limits} empty="No rate-limit rules are configured." columns=${[
      { label: 'Rule', value: (r) => html`<code>${r.id}</code>` },
      { label: 'Counts per', value: (r) => r.scope },
      { label: 'Model', value: (r) => r.model ?? 'every model' },
      {
        label: 'Requests',
        value: (r) =>
          [
            r.requests_per_second && `${r.requests_per_second}/s`,
            r.requests_per_minute && `${r.requests_per_minute}/min`,
            r.burst && `burst ${r.burst}`,
          ]
            .filter(Boolean)
            .join(', ') || '–',
      },
      { label: 'Tokens', value: (r) => (r.tokens_per_minute ? `${r.tokens_per_minute}/min` : '–') },
      { label: 'Concurrent', value: (r) => r.concurrent ?? '–' },
    ]} />`
        : null
    }
  </section>`;
}

export function Traffic({ can }) {
  return html`${can('config.read') ? html`<${Routes} /><${Breakers} />` : null}${can('usage.read') ? html`<${Budgets} />` : null}${can('config.read') ? html`<${Providers} />` : null}`;
}
