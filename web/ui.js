// Shared view helpers: htm bound to Preact, a loader hook, tables, messages, the shown-once secret box.

import htm from 'htm';
import { h } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';

export const html = htm.bind(h);

/** Loads with `fn` when `deps` change; `reload()` runs it again. */
export function useLoad(fn, deps) {
  const [state, setState] = useState({ loading: true, data: undefined, error: undefined });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    fn().then(
      (data) => {
        if (live) setState({ loading: false, data, error: undefined });
      },
      (error) => {
        if (live) setState({ loading: false, data: undefined, error });
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function ErrorNote({ error }) {
  if (!error) return null;
  const code = error.code ? html`<code>${error.code}</code> ` : '';
  return html`<p class="error" role="alert">${code}${error.message}</p>`;
}

export function Loading({ state }) {
  if (state.error) return html`<${ErrorNote} error=${state.error} />`;
  if (state.loading && state.data === undefined) return html`<p class="muted" aria-live="polite">Loading…</p>`;
  return null;
}

/** columns: [{ label, value: (row) => vnode|string }] */
export function Table({ caption, columns, rows, empty = 'Nothing here yet.', rowKey = (r) => r.id }) {
  if (!rows || rows.length === 0) return html`<p class="muted">${empty}</p>`;
  // A wide table scrolls sideways: its region takes keyboard focus so it can be scrolled without a mouse.
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${caption ?? 'table'}><table>
    <caption class=${caption ? '' : 'sr-only'}>${caption ?? 'table'}</caption>
    <thead><tr>${columns.map((c) => html`<th scope="col">${c.label}</th>`)}</tr></thead>
    <tbody>${rows.map((r) => html`<tr key=${rowKey(r)}>${columns.map((c) => html`<td>${c.value(r)}</td>`)}</tr>`)}</tbody>
  </table></div>`;
}

/** A secret the server shows once: a read-only field, a copy button, and a warning. */
export function OnceSecret({ label, value, onDone }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      document.getElementById('once-secret')?.select();
    }
  };
  return html`<div class="once" role="status">
    <p><strong>${label}</strong>: copy it now. It is shown this once and cannot be shown again.</p>
    <div class="row">
      <label class="sr-only" for="once-secret">${label}</label>
      <input id="once-secret" class="secret" readonly value=${value} data-once-secret />
      <button type="button" onClick=${copy}>${copied ? 'Copied' : 'Copy'}</button>
      <button type="button" class="secondary" onClick=${onDone}>Done</button>
    </div>
  </div>`;
}

export function when(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return html`<time datetime=${iso} title=${iso}>${d.toLocaleString()}</time>`;
}

export const num = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString());
/** Dollars from integer micro-dollars: cents when large, every micro-dollar when small. */
export const usd = (micros) => `$${dollars(Number(micros) / 1e6)}`;
export function dollars(v) {
  if (v === 0) return '0';
  return v >= 1 ? v.toFixed(2) : v.toFixed(6).replace(/0+$/, '');
}
export const ms = (v) => (v === null || v === undefined ? '–' : `${Math.round(v).toLocaleString()} ms`);

/** Time ranges the pickers offer. */
export const RANGES = [
  { id: '1h', label: 'Last hour', ms: 3_600_000 },
  { id: '6h', label: 'Last 6 hours', ms: 21_600_000 },
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { id: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
];

export function rangeOf(id) {
  const r = RANGES.find((x) => x.id === id) ?? RANGES[2];
  const to = new Date();
  return { from: new Date(to.getTime() - r.ms).toISOString(), to: to.toISOString() };
}

export function RangePicker({ id = 'range', value, onChange }) {
  return html`<label for=${id}>Time range</label>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
      ${RANGES.map((r) => html`<option value=${r.id}>${r.label}</option>`)}
    </select>`;
}
