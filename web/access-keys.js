// API keys: list, create (the key shown once with a copy button), rotate with a grace period, revoke.
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { ErrorNote, html, Loading, OnceSecret, Table, useLoad, when } from './ui.js';

function status(k) {
  if (k.revoked_at) return html`<span class="badge refused">revoked</span>`;
  if (k.expires_at && Date.parse(k.expires_at) <= Date.now()) return html`<span class="badge refused">expired</span>`;
  if (k.expires_at) return html`<span class="badge warn">expires</span>`;
  return html`<span class="badge allowed">active</span>`;
}

export function ApiKeys({ can }) {
  const state = useLoad(() => api('GET', '/keys'), []);
  const [shown, setShown] = useState(null);
  const [error, setError] = useState(null);
  const writable = can('key.write_own') || can('key.write');
  const act = async (fn) => {
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    }
    state.reload();
  };
  const create = (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const models = String(f.get('models') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    act(async () => {
      const r = await api('POST', '/keys', { label: f.get('label'), ...(models.length ? { models } : {}) });
      setShown({ label: `New key ${r.prefix}…`, value: r.key });
      form.reset();
    });
  };
  const rotate = (k) => {
    const grace = prompt(`Rotate "${k.label}": seconds the old key keeps working (0–2592000)`, '3600');
    if (grace === null) return;
    act(async () => {
      const r = await api('POST', `/keys/${encodeURIComponent(k.id)}/rotate`, { grace_seconds: Number(grace) });
      setShown({ label: `Rotated key ${r.prefix}…`, value: r.key });
    });
  };
  const revoke = (k) => {
    if (!confirm(`Revoke "${k.label}" (${k.prefix}…)? Calls with it are refused at once.`)) return;
    act(() => api('POST', `/keys/${encodeURIComponent(k.id)}/revoke`));
  };
  return html`<section aria-labelledby="keys-title">
    <h2 id="keys-title">API keys</h2>
    ${shown ? html`<${OnceSecret} label=${shown.label} value=${shown.value} onDone=${() => setShown(null)} />` : null}
    ${
      writable
        ? html`<form class="inline" onSubmit=${create} aria-label="Create an API key" data-create-key>
      <label for="key-label">Label</label><input id="key-label" name="label" required maxlength="100" />
      <label for="key-models">Models (comma-separated, empty: all)</label><input id="key-models" name="models" />
      <button type="submit">Create key</button>
    </form>`
        : null
    }
    <${ErrorNote} error=${error} />
    <${Loading} state=${state} />
    ${
      state.data
        ? html`<${Table} caption="API keys" rows=${state.data.data} empty="No API keys." columns=${[
            { label: 'Label', value: (k) => k.label },
            { label: 'Key', value: (k) => html`<code>${k.prefix}…</code>` },
            { label: 'Status', value: status },
            { label: 'Team', value: (k) => k.team_id ?? '–' },
            { label: 'Models', value: (k) => k.models.join(', ') },
            { label: 'Last used', value: (k) => when(k.last_used_at) },
            { label: 'Created', value: (k) => when(k.created_at) },
            ...(writable
              ? [
                  {
                    label: 'Actions',
                    value: (k) =>
                      k.revoked_at
                        ? '–'
                        : html`<span class="actions">
        <button type="button" class="secondary" onClick=${() => rotate(k)} aria-label=${`Rotate ${k.label}`}>Rotate</button>
        <button type="button" class="danger" onClick=${() => revoke(k)} aria-label=${`Revoke ${k.label}`}>Revoke</button></span>`,
                  },
                ]
              : []),
          ]} />`
        : null
    }
  </section>`;
}
