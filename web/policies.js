// Policies: the gateway-wide live policy (docs/policy.md). The active version and its document,
// the history with each version's state, a semantic diff between two versions, and a candidate
// document to validate, dry-run against recorded traffic, propose or apply. Approve, reject,
// apply and roll back follow the policy.* actions /me lists; only admins of the operator tenant
// may use these routes, and the server answers policy.operator_only to everyone else.
import { useState } from 'preact/hooks';
import { api, qs } from './api.js';
import { ErrorNote, html, Loading, num, Table, usd, useLoad, when } from './ui.js';

const STATE_BADGE = { active: 'allowed', proposed: 'warn', rejected: 'refused', superseded: '' };

const author = (a) => (a ? `${a.kind.replace('_', ' ')} ${a.id}` : '–');
const text = (v) => (v === undefined ? '' : JSON.stringify(v));

/** A refusal: the catalogue error, and for an invalid document every problem with its place. */
function Refusal({ error }) {
  if (!error) return null;
  return html`<${ErrorNote} error=${error} />${
    Array.isArray(error.details) && error.details.length > 0
      ? html`<ul class="problems" aria-label="Problems in the document">${error.details.map(
          (d) =>
            html`<li><code>${d.path || '(document)'}</code>${d.line ? ` line ${d.line}, column ${d.column}` : ''}: ${d.message}</li>`,
        )}</ul>`
      : null
  }`;
}

function Changes({ changes, caption }) {
  return html`<${Table} caption=${caption} rowKey=${(c) => c.path} rows=${changes} empty="No differences: the two documents hold the same data." columns=${[
    { label: 'Path', value: (c) => html`<code>${c.path || '(document)'}</code>` },
    {
      label: 'Change',
      value: (c) =>
        html`<span class=${`badge ${c.kind === 'removed' ? 'refused' : c.kind === 'added' ? 'allowed' : 'warn'}`}>${c.kind}</span>`,
    },
    { label: 'Before', value: (c) => html`<code class="value">${text(c.before)}</code>` },
    { label: 'After', value: (c) => html`<code class="value">${text(c.after)}</code>` },
  ]} />`;
}

function Active({ state }) {
  const v = state.data;
  return html`<section aria-labelledby="active-title"><h2 id="active-title">Active version</h2>
    ${
      state.data === null
        ? html`<p class="muted">No version is active yet: every instance runs the policy sections of its config file.</p>`
        : html`<${Loading} state=${state} />`
    }
    ${
      v
        ? html`<dl class="facts">
        <dt>Version</dt><dd data-active-version>${v.number}</dd>
        <dt>SHA-256</dt><dd><code>${v.sha256}</code></dd>
        <dt>Author</dt><dd>${author(v.author)}</dd>
        <dt>Active since</dt><dd>${when(v.activated_at)}</dd>
        <dt>Comment</dt><dd>${v.comment || '–'}</dd>
      </dl>
      <details><summary>Document</summary><pre class="document" tabindex="0" aria-label="Active policy document">${JSON.stringify(v.document, null, 2)}</pre></details>`
        : null
    }
  </section>`;
}

/** Which version each instance runs (from their heartbeats; an instance unseen for three periods is left out). */
function Instances({ tick }) {
  const state = useLoad(() => api('GET', '/policy/status'), [tick]);
  const d = state.data;
  return html`<section aria-labelledby="instances-title"><h2 id="instances-title">Instances</h2>
    <div class="toolbar"><button type="button" class="secondary" onClick=${state.reload}>Refresh</button></div>
    <${Loading} state=${state} />
    ${
      d
        ? html`<p role="status" data-sync>${
            d.instances.length === 0
              ? 'No instance has reported yet.'
              : d.all_in_sync
                ? `All ${d.instances.length} instances run version ${d.active_version}.`
                : `Not every instance runs the active version ${d.active_version ?? '(none)'} yet.`
          }</p>
        <${Table} caption="Instances and the version each runs" rowKey=${(i) => i.instance_id} rows=${d.instances} empty="No instance." columns=${[
          { label: 'Instance', value: (i) => html`<code>${i.instance_id}</code>` },
          { label: 'Host (pid)', value: (i) => `${i.host} (${i.pid})` },
          { label: 'Runs version', value: (i) => i.active_version ?? 'the config file' },
          {
            label: 'In sync',
            value: (i) =>
              html`<span class=${`badge ${i.in_sync ? 'allowed' : 'warn'}`}>${i.in_sync ? 'yes' : 'no'}</span>`,
          },
          {
            label: 'Failed to build',
            value: (i) => (i.failed_version ? `version ${i.failed_version}: ${i.failure ?? ''}` : '–'),
          },
          { label: 'Started', value: (i) => when(i.started_at) },
          { label: 'Last seen', value: (i) => when(i.seen_at) },
        ]} />`
        : null
    }
  </section>`;
}

function History({ versions, can, onChanged, onCompare }) {
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const act = async (fn, message) => {
    setError(null);
    setDone(null);
    try {
      const r = await fn();
      setDone(typeof message === 'function' ? message(r) : message);
    } catch (err) {
      setError(err);
    }
    onChanged();
  };
  const approve = (v) =>
    act(() => api('POST', `/policy/versions/${v.number}/approve`), `Version ${v.number} approved.`);
  const reject = (v) => {
    const reason = prompt(`Reject version ${v.number}: the reason (kept with the version)`);
    if (reason === null) return;
    act(() => api('POST', `/policy/versions/${v.number}/reject`, { reason }), `Version ${v.number} rejected.`);
  };
  const apply = (v) => {
    const verb = v.state === 'superseded' ? 'Roll back to' : 'Apply';
    if (!confirm(`${verb} version ${v.number}? Every instance switches to it.`)) return;
    act(
      () => api('POST', '/policy/apply', { version: v.number }),
      (r) => `Version ${r.version.number} is active (${r.changes.length} changes).`,
    );
  };
  const rollback = () => {
    const comment = prompt('Roll back to the version active before the current one: a comment (optional)', '');
    if (comment === null) return;
    act(
      () => api('POST', '/policy/rollback', comment ? { comment } : {}),
      (r) => `Rolled back: version ${r.version.number} is active (${r.changes.length} changes).`,
    );
  };
  const writes = can('policy.approve') || can('policy.apply');
  return html`<section aria-labelledby="history-title"><h2 id="history-title">History</h2>
    ${
      can('policy.apply')
        ? html`<div class="toolbar"><button type="button" class="secondary" onClick=${rollback}>Roll back</button></div>`
        : null
    }
    <${Refusal} error=${error} />
    ${done ? html`<p class="notice" role="status">${done}</p>` : null}
    <${Table} caption="Policy versions, newest first" rowKey=${(v) => v.number} rows=${versions} empty="No version is stored yet." columns=${[
      { label: 'Version', value: (v) => v.number },
      { label: 'State', value: (v) => html`<span class=${`badge ${STATE_BADGE[v.state] ?? ''}`}>${v.state}</span>` },
      { label: 'Author', value: (v) => author(v.author) },
      { label: 'Created', value: (v) => when(v.created_at) },
      { label: 'Comment', value: (v) => v.comment || '–' },
      {
        label: 'Decision',
        value: (v) =>
          v.approved_by
            ? `approved by ${author(v.approved_by)}`
            : v.rejected_by
              ? `rejected by ${author(v.rejected_by)}: ${v.reason ?? ''}`
              : '–',
      },
      {
        label: 'Actions',
        value: (v) => html`<span class="actions">
          ${v.parent ? html`<button type="button" class="link" onClick=${() => onCompare(v.parent, v.number)} aria-label=${`Diff ${v.number} against ${v.parent}`}>Diff</button>` : null}
          ${
            writes && v.state === 'proposed' && can('policy.approve') && !v.approved_by
              ? html`<button type="button" class="secondary" onClick=${() => approve(v)} aria-label=${`Approve ${v.number}`}>Approve</button>
            <button type="button" class="danger" onClick=${() => reject(v)} aria-label=${`Reject ${v.number}`}>Reject</button>`
              : null
          }
          ${
            writes && can('policy.apply') && (v.state === 'proposed' || v.state === 'superseded')
              ? html`<button type="button" class="secondary" onClick=${() => apply(v)} aria-label=${`${v.state === 'superseded' ? 'Roll back to' : 'Apply'} ${v.number}`}>${v.state === 'superseded' ? 'Roll back to' : 'Apply'}</button>`
              : null
          }
        </span>`,
      },
    ]} />
  </section>`;
}

function Diff({ versions, pair, setPair }) {
  const state = useLoad(
    () => (pair ? api('GET', `/policy/diff${qs({ from: pair.from, to: pair.to })}`) : Promise.resolve(null)),
    [pair?.from, pair?.to],
  );
  const submit = (e) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setPair({ from: String(f.get('from')), to: String(f.get('to')) });
  };
  const options = [
    { value: 'active', label: 'active' },
    ...versions.map((v) => ({ value: String(v.number), label: `${v.number} (${v.state})` })),
  ];
  return html`<section aria-labelledby="diff-title"><h2 id="diff-title">Compare versions</h2>
    <form class="inline" onSubmit=${submit} aria-label="Compare two versions">
      <label for="diff-from">From</label>
      <select id="diff-from" name="from" value=${pair?.from ?? (versions[1] ? String(versions[1].number) : 'active')}>${options.map((o) => html`<option value=${o.value}>${o.label}</option>`)}</select>
      <label for="diff-to">To</label>
      <select id="diff-to" name="to" value=${pair?.to ?? 'active'}>${options.map((o) => html`<option value=${o.value}>${o.label}</option>`)}</select>
      <button type="submit">Compare</button>
    </form>
    ${pair ? html`<${Loading} state=${state} />` : null}
    ${state.data ? html`<div data-diff><${Changes} caption=${`Changes from ${pair.from} to ${pair.to}`} changes=${state.data.changes} /></div>` : null}
  </section>`;
}

function DryRunReport({ r }) {
  const verdicts = [
    { id: 'active', policy: `active (version ${r.active_policy ?? 'from the config file'})`, ...r.active },
    { id: 'candidate', policy: 'candidate', ...r.candidate },
  ];
  return html`<div data-dry-run>
    <p>Window ${when(r.window.since)} – ${when(r.window.until)}: ${num(r.sample.records)} records${r.sample.truncated ? ' (the window held more)' : ''}, ${num(r.sample.replayed)} replayed. The active replay agrees with the recorded decision for ${num(r.fidelity.matching)} of ${num(r.fidelity.compared)}. <strong>${num(r.changed)} requests would be decided, routed or priced differently.</strong></p>
    <${Table} caption="Decisions under each policy" rows=${verdicts} columns=${[
      { label: 'Policy', value: (v) => v.policy },
      { label: 'Allowed', value: (v) => num(v.allowed) },
      { label: 'Refused', value: (v) => num(v.refused) },
      { label: 'Throttled', value: (v) => num(v.throttled) },
    ]} />
    <${Table} caption="Rules the candidate decides differently" rowKey=${(x) => x.rule} rows=${r.rules} empty="No rule decides differently." columns=${[
      { label: 'Rule', value: (x) => html`<code>${x.rule}</code>` },
      { label: 'Stage', value: (x) => x.stage },
      { label: 'Refused', value: (x) => num(x.refused) },
      { label: 'Throttled', value: (x) => num(x.throttled) },
      { label: 'Released', value: (x) => num(x.released) },
      { label: 'Rerouted', value: (x) => num(x.rerouted) },
      { label: 'Repriced', value: (x) => num(x.repriced) },
      {
        label: 'Cost change',
        value: (x) => (x.costDeltaMicros < 0 ? `-${usd(-x.costDeltaMicros)}` : usd(x.costDeltaMicros)),
      },
    ]} />
    <div class="charts">
      <${Table} caption="Most affected keys" rows=${r.keys} empty="No key affected." columns=${[
        { label: 'Key', value: (x) => html`<code>${x.id}</code>` },
        { label: 'Requests', value: (x) => num(x.changed) },
      ]} />
      <${Table} caption="Most affected teams" rows=${r.teams} empty="No team affected." columns=${[
        { label: 'Team', value: (x) => html`<code>${x.id}</code>` },
        { label: 'Requests', value: (x) => num(x.changed) },
      ]} />
    </div>
  </div>`;
}

const SINCE = [
  { id: '1h', label: 'Last hour' },
  { id: '24h', label: 'Last 24 hours' },
  { id: '7d', label: 'Last 7 days' },
  { id: '31d', label: 'Last 31 days' },
];

function Candidate({ can, onChanged }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [result, setResult] = useState(null);
  const run = async (e, what) => {
    e.preventDefault();
    const form = e.currentTarget.form;
    if (!form.reportValidity()) return;
    const f = new FormData(form);
    const document = String(f.get('document'));
    const comment = String(f.get('comment') ?? '');
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      if (what === 'validate') {
        const r = await api('POST', '/policy/validate', { document });
        setResult({ what, r });
      } else if (what === 'dry-run') {
        setResult({ what, r: await api('POST', '/policy/dry-run', { document, since: String(f.get('since')) }) });
      } else if (what === 'propose') {
        const r = await api('POST', '/policy/versions', { document, comment });
        setResult({ what, r });
        form.elements.comment.value = '';
        onChanged();
      } else if (what === 'apply') {
        if (!confirm('Apply this document now? Every instance switches to it.')) return;
        const r = await api('POST', '/policy/apply', { document, ...(comment ? { comment } : {}) });
        setResult({ what, r });
        form.elements.comment.value = '';
        onChanged();
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const r = result?.r;
  return html`<section aria-labelledby="candidate-title"><h2 id="candidate-title">Candidate document</h2>
    <p class="muted">Paste a policy document (YAML or JSON, policy sections only). Validating stores nothing; a dry-run replays the recorded requests of a window under the active policy and under this one.</p>
    <form class="stack" aria-label="Candidate policy document" data-candidate>
      <label for="policy-document">Document</label>
      <textarea id="policy-document" name="document" rows="12" required spellcheck="false"></textarea>
      <label for="policy-comment">Comment</label>
      <input id="policy-comment" name="comment" maxlength="1000" />
      <div class="toolbar">
        <button type="button" class="secondary" disabled=${busy} onClick=${(e) => run(e, 'validate')}>Validate</button>
        ${
          can('policy.propose')
            ? html`<label for="policy-since">Replay window</label>
          <select id="policy-since" name="since">${SINCE.map((s) => html`<option value=${s.id} selected=${s.id === '24h'}>${s.label}</option>`)}</select>
          <button type="button" class="secondary" disabled=${busy} onClick=${(e) => run(e, 'dry-run')}>Dry-run</button>
          <button type="button" disabled=${busy} onClick=${(e) => run(e, 'propose')}>Propose</button>`
            : null
        }
        ${can('policy.apply') ? html`<button type="button" class="danger" disabled=${busy} onClick=${(e) => run(e, 'apply')}>Apply now</button>` : null}
      </div>
    </form>
    ${busy ? html`<p class="muted" aria-live="polite">Working…</p>` : null}
    <${Refusal} error=${error} />
    ${
      result?.what === 'validate'
        ? html`<p class="notice" role="status">Valid (SHA-256 <code>${r.sha256}</code>).</p><${Changes} caption=${`Changes from the active version${r.active ? ` ${r.active}` : ''}`} changes=${r.changes} />`
        : null
    }
    ${result?.what === 'dry-run' ? html`<${DryRunReport} r=${r} />` : null}
    ${
      result?.what === 'propose' || result?.what === 'apply'
        ? html`<p class="notice" role="status">${
            !r.changed
              ? `Nothing changed: the document equals the active version ${r.version.number}.`
              : result.what === 'propose'
                ? `Proposed as version ${r.version.number} (${r.changes.length} changes).`
                : `Version ${r.version.number} is active (${r.changes.length} changes).`
          }</p>`
        : null
    }
  </section>`;
}

export function Policies({ can }) {
  const history = useLoad(() => api('GET', `/policy/versions${qs({ limit: 50 })}`), []);
  // Asked only when a version is active (with none, the instances run the config file's policy).
  const hasActive = history.data?.data.some((v) => v.state === 'active') ?? false;
  const active = useLoad(() => (hasActive ? api('GET', '/policy') : Promise.resolve(null)), [history.data]);
  const [pair, setPair] = useState(null);
  if (history.error?.code === 'policy.operator_only')
    return html`<p class="notice" role="status" data-operator-only>Policy is gateway-wide: it applies to every tenant, so only admins of the operator tenant (<code>policy.operator_tenant</code> in the config file) may read or change it here. Ask an operator, or use <code>portcullis policy</code> on the gateway host.</p>`;
  if (!history.data) return html`<${Loading} state=${history} />`;
  const versions = history.data.data;
  const compare = (from, to) => {
    setPair({ from: String(from), to: String(to) });
    requestAnimationFrame(() => document.getElementById('diff-title')?.scrollIntoView());
  };
  return html`<${Active} state=${active} />
    <${Instances} tick=${history.data} />
    <${History} versions=${versions} can=${can} onChanged=${history.reload} onCompare=${compare} />
    <${Diff} versions=${versions} pair=${pair} setPair=${setPair} />
    ${can('policy.read') ? html`<${Candidate} can=${can} onChanged=${history.reload} />` : null}`;
}
