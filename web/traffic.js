// Traffic: the model routes and upstream providers the config file declares (read-only), and
// this instance's circuit-breaker states.
import { api } from './api.js';
import { html, Loading, Table, useLoad } from './ui.js';

function Routes() {
  const state = useLoad(() => api('GET', '/routes'), []);
  return html`<section aria-labelledby="routes-title"><h2 id="routes-title">Model routes</h2><${Loading} state=${state} />
    ${state.data ? html`<${Table} caption="Model routes (from the config file)" rowKey=${(r) => r.model} rows=${state.data.data} empty="No model routes." columns=${[
      { label: 'Model', value: (r) => html`<code>${r.model}</code>` },
      { label: 'Targets (provider → model, priority, weight)', value: (r) => html`<ul class="plain">${r.targets.map((t) => html`<li>${t.provider} → <code>${t.model}</code>, p${t.priority}, w${t.weight}</li>`)}</ul>` },
      { label: 'Deadline', value: (r) => `${r.timeout_ms} ms (attempt ${r.attempt_timeout_ms} ms)` },
      { label: 'Retries', value: (r) => `${r.retry.max_attempts} attempts` },
      { label: 'Circuit breaker', value: (r) => `opens after ${r.circuit_breaker.failure_threshold} failures, for ${r.circuit_breaker.open_ms} ms` },
    ]} />` : null}
  </section>`;
}

function Providers() {
  const state = useLoad(() => api('GET', '/providers'), []);
  return html`<section aria-labelledby="providers-title"><h2 id="providers-title">Providers</h2><${Loading} state=${state} />
    ${state.data ? html`<${Table} caption="Upstream providers (from the config file)" rows=${state.data.data} empty="No providers." columns=${[
      { label: 'Id', value: (p) => html`<code>${p.id}</code>` }, { label: 'Kind', value: (p) => p.kind },
      { label: 'Base URL', value: (p) => html`<code>${p.base_url}</code>` },
      { label: 'Credential', value: (p) => (p.credential_configured ? 'set' : 'none') },
      { label: 'Connections', value: (p) => p.max_connections }, { label: 'Connect timeout', value: (p) => `${p.connect_timeout_ms} ms` },
      { label: 'TLS', value: (p) => (p.tls ? `${p.tls.custom_ca ? 'custom CA' : 'system CAs'}${p.tls.pinned_keys ? `, ${p.tls.pinned_keys} pinned keys` : ''}` : 'default') },
    ]} />` : null}
  </section>`;
}

const STATE_BADGE = { closed: 'allowed', 'half-open': 'warn', open: 'refused' };

function Breakers() {
  const state = useLoad(() => api('GET', '/breakers'), []);
  return html`<section aria-labelledby="breakers-title"><h2 id="breakers-title">Circuit breakers</h2>
    <p class="muted">This instance's view: a breaker opens after its route's failure threshold and lets one trial call through when its open time is over. Only targets called since the instance started are listed.</p>
    <div class="toolbar"><button type="button" class="secondary" onClick=${state.reload}>Refresh</button></div>
    <${Loading} state=${state} />
    ${state.data ? html`<${Table} caption="Circuit breakers" rowKey=${(b) => `${b.provider}/${b.model}`} rows=${state.data.data} empty="No upstream has been called yet." columns=${[
      { label: 'Provider', value: (b) => html`<code>${b.provider}</code>` }, { label: 'Upstream model', value: (b) => html`<code>${b.model}</code>` },
      { label: 'State', value: (b) => html`<span class=${`badge ${STATE_BADGE[b.state] ?? ''}`}>${b.state}</span>` },
    ]} />` : null}
  </section>`;
}

export function Traffic() {
  return html`<${Routes} /><${Breakers} /><${Providers} />`;
}
