// Portal: the tenant's prompt APIs (docs/prompt-apis.md). The catalog with each API's versions,
// schemas and examples; subscription requests (reason and plan) and the owners' decisions, per the
// api.* and subscription.* actions /me lists; and a try-it panel that calls /apis/{name}/v{major}
// same-origin with an API key the user pastes (held in this component's memory only: never
// stored, never sent anywhere else).
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { ErrorNote, html, Loading, num, Table, useLoad, when } from './ui.js';

const VERSION_BADGE = { published: 'allowed', deprecated: 'warn', retired: 'refused', draft: '' };
const SUB_BADGE = { approved: 'allowed', pending: 'warn', suspended: 'warn', rejected: 'refused', revoked: 'refused' };
const json = (v) => JSON.stringify(v, null, 2);

/** The version a caller of a major is served: the newest published or deprecated minor. */
function liveVersions(versions) {
  const byMajor = new Map();
  for (const v of versions) {
    if (v.state !== 'published' && v.state !== 'deprecated') continue;
    const seen = byMajor.get(v.major);
    if (!seen || v.minor > seen.minor) byMajor.set(v.major, v);
  }
  return [...byMajor.values()].sort((a, b) => b.major - a.major);
}

function Schema({ label, schema }) {
  if (!schema) return html`<p class="muted">${label}: none (the answer is text).</p>`;
  return html`<details><summary>${label}</summary><pre class="document" tabindex="0" aria-label=${label}>${json(schema)}</pre></details>`;
}

function TryIt({ a, live }) {
  const [major, setMajor] = useState(live[0].major);
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState(null);
  const version = live.find((v) => v.major === Number(major)) ?? live[0];
  const example = version.definition.examples?.[0]?.variables ?? {};
  const id = `try-${a.id}`;
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setError(null);
    setAnswer(null);
    let variables;
    try {
      variables = JSON.parse(String(f.get('variables')));
    } catch {
      setError({ message: 'Variables: not valid JSON.' });
      return;
    }
    setBusy(true);
    try {
      const res = await fetch(`/apis/${encodeURIComponent(a.name)}/v${version.major}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json' },
        credentials: 'omit',
        cache: 'no-store',
        body: JSON.stringify({ variables }),
      });
      const text = await res.text();
      let body = text;
      try {
        body = json(JSON.parse(text));
      } catch {
        /* not JSON: shown as it is */
      }
      setAnswer({ status: res.status, code: res.headers.get('x-portcullis-error-code'), body });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<details class="try-it"><summary>Try it</summary>
    <p class="muted">Calls <code>POST /apis/${a.name}/v${version.major}</code> on this gateway with an API key of a team that may call it. The key is kept in this page's memory only, never stored.</p>
    <form class="stack" onSubmit=${submit} aria-label=${`Try ${a.name}`} data-try-it>
      ${
        live.length > 1
          ? html`<label for=${`${id}-major`}>Major version</label>
        <select id=${`${id}-major`} value=${String(major)} onChange=${(e) => setMajor(Number(e.currentTarget.value))}>${live.map((v) => html`<option value=${String(v.major)}>v${v.major} (${v.version})</option>`)}</select>`
          : null
      }
      <label for=${`${id}-key`}>API key</label>
      <input id=${`${id}-key`} type="password" autocomplete="off" required value=${key} onInput=${(e) => setKey(e.currentTarget.value)} />
      <label for=${`${id}-vars`}>Variables (JSON)</label>
      <textarea id=${`${id}-vars`} name="variables" rows="4" spellcheck="false" required defaultValue=${json(example)}></textarea>
      <div class="toolbar"><button type="submit" disabled=${busy}>Call</button></div>
    </form>
    <${ErrorNote} error=${error} />
    ${
      answer
        ? html`<div data-try-answer><p role="status">HTTP ${answer.status}${answer.code ? html` <code>${answer.code}</code>` : null}</p>
        <pre class="document" tabindex="0" aria-label="Answer">${answer.body}</pre></div>`
        : null
    }
  </details>`;
}

function RequestForm({ a, me, onDone }) {
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  // Team-bound roles request for their own team only; tenant-wide ones name the consumer team.
  const teamBound = me.user.role === 'team_manager' || me.user.role === 'developer';
  const id = `sub-${a.id}`;
  const submit = async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    setError(null);
    setDone(null);
    try {
      const s = await api('POST', `/apis/${encodeURIComponent(a.id)}/subscriptions`, {
        ...(teamBound ? {} : { team_id: String(f.get('team_id')) }),
        reason: String(f.get('reason')),
        requests_per_minute: Number(f.get('rpm')),
        monthly_quota: Number(f.get('quota')),
      });
      setDone(`Requested for team ${s.consumer_team_id}: ${s.state}.`);
      form.reset();
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="inline" onSubmit=${submit} aria-label=${`Request a subscription to ${a.name}`} data-request-subscription>
      ${
        teamBound
          ? null
          : html`<label for=${`${id}-team`}>Consumer team</label><input id=${`${id}-team`} name="team_id" required maxlength="200" />`
      }
      <label for=${`${id}-reason`}>Reason</label><input id=${`${id}-reason`} name="reason" required maxlength="500" />
      <label for=${`${id}-rpm`}>Requests per minute</label><input id=${`${id}-rpm`} name="rpm" type="number" min="1" max="1000000" required value="60" />
      <label for=${`${id}-quota`}>Calls per month</label><input id=${`${id}-quota`} name="quota" type="number" min="1" max="1000000000" required value="10000" />
      <button type="submit">Request subscription</button>
    </form>
    <${ErrorNote} error=${error} />
    ${done ? html`<p class="notice" role="status">${done}</p>` : null}`;
}

function ApiCard({ summary, me, can, onSubscribed }) {
  const state = useLoad(() => api('GET', `/apis/${encodeURIComponent(summary.id)}`), [summary.id]);
  const a = state.data;
  const live = a ? liveVersions(a.versions) : [];
  const own = me.user.team_id !== null && me.user.team_id === summary.owner_team_id;
  return html`<article class="api-card" aria-labelledby=${`api-${summary.id}`}>
    <h3 id=${`api-${summary.id}`}><code>${summary.name}</code></h3>
    <p>${summary.description || html`<span class="muted">No description.</span>`}</p>
    <dl class="facts">
      <dt>Owner team</dt><dd>${summary.owner_team_id}</dd>
      <dt>Visibility</dt><dd>${summary.visibility === 'team' ? 'owner team only' : 'every team of the tenant'}</dd>
      <dt>Endpoints</dt><dd>${live.length ? live.map((v) => html`<code>POST /apis/${summary.name}/v${v.major}</code> `) : '–'}</dd>
    </dl>
    <${Loading} state=${state} />
    ${
      a
        ? html`<${Table} caption=${`Versions of ${summary.name}`} rowKey=${(v) => v.version} rows=${a.versions} empty="No version yet." columns=${[
            { label: 'Version', value: (v) => v.version },
            {
              label: 'State',
              value: (v) => html`<span class=${`badge ${VERSION_BADGE[v.state] ?? ''}`}>${v.state}</span>`,
            },
            { label: 'Model', value: (v) => html`<code>${v.definition.model}</code>` },
            { label: 'Published', value: (v) => when(v.published_at) },
            { label: 'Sunset', value: (v) => when(v.sunset_at) },
            { label: 'Successor', value: (v) => v.successor ?? '–' },
          ]} />
        ${live.map(
          (v) => html`<div class="api-version">
            <h4>v${v.major}: ${v.version}</h4>
            <${Schema} label=${`Input schema of ${summary.name} ${v.version}`} schema=${v.definition.input_schema} />
            <${Schema} label=${`Output schema of ${summary.name} ${v.version}`} schema=${v.definition.output_schema} />
            ${
              v.definition.examples?.length
                ? html`<${Table} caption=${`Examples of ${summary.name} ${v.version}`} rowKey=${(x) => JSON.stringify(x)} rows=${v.definition.examples} columns=${[
                    {
                      label: 'Variables',
                      value: (x) => html`<code class="value">${JSON.stringify(x.variables)}</code>`,
                    },
                    {
                      label: 'Output',
                      value: (x) => html`<code class="value">${JSON.stringify(x.output ?? null)}</code>`,
                    },
                  ]} />`
                : null
            }
          </div>`,
        )}
        ${live.length ? html`<${TryIt} a=${summary} live=${live} />` : null}
        ${can('subscription.request') && !own && live.length ? html`<${RequestForm} a=${summary} me=${me} onDone=${onSubscribed} />` : null}`
        : null
    }
  </article>`;
}

function Subscriptions({ apis, me, can, tick, onChanged }) {
  const state = useLoad(() => api('GET', '/subscriptions'), [tick]);
  const [error, setError] = useState(null);
  const names = new Map(apis.map((a) => [a.id, a]));
  const act = async (s, action) => {
    const body = {};
    if (action === 'reject' || action === 'suspend' || action === 'revoke') {
      const reason = prompt(
        `${action[0].toUpperCase()}${action.slice(1)} the subscription of team ${s.consumer_team_id}: the reason${action === 'reject' ? '' : ' (optional)'}`,
      );
      if (reason === null) return;
      if (reason !== '') body.reason = reason;
    }
    setError(null);
    try {
      await api('POST', `/subscriptions/${encodeURIComponent(s.id)}/${action}`, body);
    } catch (err) {
      setError(err);
    }
    onChanged();
  };
  // Only the API's owners decide (the server refuses the consumer team with api.self_approval).
  const decides = (s) => {
    if (!can('subscription.decide')) return false;
    const a = names.get(s.api_id);
    if (me.user.team_id !== null && s.consumer_team_id === me.user.team_id) return false;
    return me.user.role === 'owner' || me.user.role === 'admin' || a?.owner_team_id === me.user.team_id;
  };
  const buttons = {
    pending: ['approve', 'reject'],
    approved: ['suspend', 'revoke'],
    suspended: ['resume', 'revoke'],
  };
  const name = (s) => names.get(s.api_id)?.name ?? s.api_id;
  return html`<section aria-labelledby="subs-title"><h2 id="subs-title">Subscriptions</h2>
    <${ErrorNote} error=${error} />
    <${Loading} state=${state} />
    ${
      state.data
        ? html`<${Table} caption="Subscriptions: your team's and those to the APIs you own" rows=${state.data.data} empty="No subscription yet." columns=${[
            { label: 'API', value: (s) => html`<code>${name(s)}</code>` },
            { label: 'Consumer team', value: (s) => s.consumer_team_id },
            {
              label: 'State',
              value: (s) => html`<span class=${`badge ${SUB_BADGE[s.state] ?? ''}`}>${s.state}</span>`,
            },
            {
              label: 'Plan',
              value: (s) => `${num(s.plan.requests_per_minute)}/min, ${num(s.plan.monthly_quota)}/month`,
            },
            { label: 'Reason', value: (s) => s.reason },
            { label: 'Requested', value: (s) => when(s.created_at) },
            {
              label: 'Decision',
              value: (s) =>
                s.decided_by ? `${s.decided_by}${s.decision_reason ? `: ${s.decision_reason}` : ''}` : '–',
            },
            {
              label: 'Actions',
              value: (s) =>
                decides(s) && buttons[s.state]
                  ? html`<span class="actions">${buttons[s.state].map(
                      (action) =>
                        html`<button type="button" class=${action === 'approve' || action === 'resume' ? 'secondary' : 'danger'} onClick=${() => act(s, action)} aria-label=${`${action[0].toUpperCase()}${action.slice(1)} ${name(s)} for ${s.consumer_team_id}`}>${action[0].toUpperCase()}${action.slice(1)}</button>`,
                    )}</span>`
                  : '–',
            },
          ]} />`
        : null
    }
  </section>`;
}

export function Portal({ me, can }) {
  const state = useLoad(() => api('GET', '/apis'), []);
  const [tick, setTick] = useState(0);
  const changed = () => setTick((t) => t + 1);
  return html`<section aria-labelledby="catalog-title"><h2 id="catalog-title">Catalog</h2>
    <${Loading} state=${state} />
    ${state.data && state.data.data.length === 0 ? html`<p class="muted">No prompt API in this tenant yet (<code>portcullis apis create</code>, or <code>POST /admin/v1/apis</code>).</p>` : null}
    ${state.data ? state.data.data.map((a) => html`<${ApiCard} key=${a.id} summary=${a} me=${me} can=${can} onSubscribed=${changed} />`) : null}
  </section>
  ${state.data ? html`<${Subscriptions} apis=${state.data.data} me=${me} can=${can} tick=${tick} onChanged=${changed} />` : null}`;
}
