// Access: the tenant, teams, admin users and roles, API keys, OAuth clients, admin API tokens.
// Write controls appear only for the actions /me lists; the server checks every call anyway.
import { useState } from 'preact/hooks';
import { ApiKeys } from './access-keys.js';
import { api } from './api.js';
import { ErrorNote, html, Loading, OnceSecret, Table, useLoad, when } from './ui.js';

const ROLES = ['owner', 'admin', 'security_auditor', 'team_manager', 'developer', 'billing_viewer'];

function useAct(reload) {
  const [error, setError] = useState(null);
  const act = async (fn) => {
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    }
    reload();
  };
  return [error, act];
}

function Tenant({ me }) {
  const state = useLoad(() => api('GET', `/tenants/${encodeURIComponent(me.user.tenant_id)}`), []);
  const t = state.data;
  return html`<section aria-labelledby="tenant-title"><h2 id="tenant-title">Tenant</h2><${Loading} state=${state} />
    ${t ? html`<dl class="facts"><dt>Id</dt><dd><code>${t.id}</code></dd><dt>Name</dt><dd>${t.name ?? '–'}</dd><dt>Status</dt><dd>${t.status ?? 'active'}</dd></dl>` : null}
  </section>`;
}

function Teams({ can }) {
  const state = useLoad(() => api('GET', '/teams'), []);
  const [error, act] = useAct(state.reload);
  const create = (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const name = new FormData(form).get('name');
    act(async () => {
      await api('POST', '/teams', { name });
      form.reset();
    });
  };
  return html`<section aria-labelledby="teams-title"><h2 id="teams-title">Teams</h2>
    ${
      can('team.write')
        ? html`<form class="inline" onSubmit=${create} aria-label="Create a team">
      <label for="team-name">Name</label><input id="team-name" name="name" required maxlength="100" />
      <button type="submit">Create team</button></form>`
        : null
    }
    <${ErrorNote} error=${error} /><${Loading} state=${state} />
    ${
      state.data
        ? html`<${Table} caption="Teams" rows=${state.data.data} empty="No teams." columns=${[
            { label: 'Name', value: (t) => t.name },
            { label: 'Id', value: (t) => html`<code>${t.id}</code>` },
            { label: 'IP allow-list', value: (t) => (t.ip_allowlist.length ? t.ip_allowlist.join(', ') : 'anywhere') },
            { label: 'Created', value: (t) => when(t.created_at) },
            ...(can('team.write')
              ? [
                  {
                    label: 'Actions',
                    value: (t) => html`<button type="button" class="danger" aria-label=${`Delete team ${t.name}`}
        onClick=${() => confirm(`Delete team ${t.name}?`) && act(() => api('DELETE', `/teams/${encodeURIComponent(t.id)}`))}>Delete</button>`,
                  },
                ]
              : []),
          ]} />`
        : null
    }
  </section>`;
}

function Users({ me, can }) {
  const state = useLoad(() => api('GET', '/users'), []);
  const [error, act] = useAct(state.reload);
  const [shown, setShown] = useState(null);
  const roles = me.user.role === 'owner' ? ROLES : ROLES.filter((r) => r !== 'owner');
  const create = (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    act(async () => {
      const r = await api('POST', '/users', { email: f.get('email'), role: f.get('role') });
      setShown({
        label: `Enrolment token for ${r.user.email} (hand it to them; valid until ${new Date(r.enrolment_expires_at).toLocaleString()})`,
        value: r.enrolment_token,
      });
      form.reset();
    });
  };
  return html`<section aria-labelledby="users-title"><h2 id="users-title">Admin users and roles</h2>
    ${shown ? html`<${OnceSecret} label=${shown.label} value=${shown.value} onDone=${() => setShown(null)} />` : null}
    ${
      can('user.write')
        ? html`<form class="inline" onSubmit=${create} aria-label="Invite an admin user">
      <label for="user-email">Email</label><input id="user-email" name="email" type="email" required />
      <label for="user-role">Role</label><select id="user-role" name="role">${roles.map((r) => html`<option value=${r}>${r}</option>`)}</select>
      <button type="submit">Invite</button></form>`
        : null
    }
    <${ErrorNote} error=${error} /><${Loading} state=${state} />
    ${
      state.data
        ? html`<${Table} caption="Admin users" rows=${state.data.data} columns=${[
            { label: 'Email', value: (u) => u.email },
            { label: 'Role', value: (u) => u.role },
            { label: 'Team', value: (u) => u.team_id ?? '–' },
            {
              label: 'State',
              value: (u) =>
                u.disabled_at ? 'disabled' : u.enrolment_pending ? 'invited' : u.mfa_enrolled ? 'active' : 'no MFA',
            },
            { label: 'Created', value: (u) => when(u.created_at) },
            ...(can('user.write')
              ? [
                  {
                    label: 'Actions',
                    value: (u) =>
                      u.disabled_at || u.id === me.user.id
                        ? '–'
                        : html`<button type="button" class="danger"
        aria-label=${`Disable ${u.email}`} onClick=${() => confirm(`Disable ${u.email}? Their sessions and tokens end.`) && act(() => api('POST', `/users/${encodeURIComponent(u.id)}/disable`))}>Disable</button>`,
                  },
                ]
              : []),
          ]} />`
        : null
    }
  </section>`;
}

function OAuthClients({ can }) {
  const state = useLoad(() => api('GET', '/oauth/clients'), []);
  const [error, act] = useAct(state.reload);
  const [shown, setShown] = useState(null);
  const create = (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const name = new FormData(form).get('name');
    act(async () => {
      const r = await api('POST', '/oauth/clients', { name });
      setShown({ label: `Client secret of ${r.client_id}`, value: r.client_secret });
      form.reset();
    });
  };
  return html`<section aria-labelledby="clients-title"><h2 id="clients-title">OAuth clients</h2>
    ${shown ? html`<${OnceSecret} label=${shown.label} value=${shown.value} onDone=${() => setShown(null)} />` : null}
    ${
      can('client.write')
        ? html`<form class="inline" onSubmit=${create} aria-label="Register an OAuth client">
      <label for="client-name">Name</label><input id="client-name" name="name" required maxlength="100" />
      <button type="submit">Register client</button></form>`
        : null
    }
    <${ErrorNote} error=${error} /><${Loading} state=${state} />
    ${
      state.data
        ? html`<${Table} caption="OAuth clients" rowKey=${(c) => c.client_id} rows=${state.data.data} empty="No OAuth clients." columns=${[
            { label: 'Name', value: (c) => c.name },
            { label: 'Client id', value: (c) => html`<code>${c.client_id}</code>` },
            { label: 'Authentication', value: (c) => c.auth_method },
            { label: 'Models', value: (c) => c.models.join(', ') },
            { label: 'Status', value: (c) => (c.revoked_at ? 'revoked' : 'active') },
            ...(can('client.write')
              ? [
                  {
                    label: 'Actions',
                    value: (c) =>
                      c.revoked_at
                        ? '–'
                        : html`<button type="button" class="danger" aria-label=${`Revoke client ${c.name}`}
        onClick=${() => confirm(`Revoke ${c.name}?`) && act(() => api('POST', `/oauth/clients/${encodeURIComponent(c.client_id)}/revoke`))}>Revoke</button>`,
                  },
                ]
              : []),
          ]} />`
        : null
    }
  </section>`;
}

function AdminTokens({ can }) {
  const state = useLoad(() => api('GET', '/tokens'), []);
  const [error, act] = useAct(state.reload);
  const [shown, setShown] = useState(null);
  const create = (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const label = new FormData(form).get('label');
    act(async () => {
      const r = await api('POST', '/tokens', { label });
      setShown({ label: `Admin API token ${r.prefix}…`, value: r.token });
      form.reset();
    });
  };
  return html`<section aria-labelledby="tokens-title"><h2 id="tokens-title">Your admin API tokens</h2>
    ${shown ? html`<${OnceSecret} label=${shown.label} value=${shown.value} onDone=${() => setShown(null)} />` : null}
    ${
      can('token.write')
        ? html`<form class="inline" onSubmit=${create} aria-label="Create an admin API token">
      <label for="token-label">Label</label><input id="token-label" name="label" required maxlength="100" />
      <button type="submit">Create token</button></form>`
        : null
    }
    <${ErrorNote} error=${error} /><${Loading} state=${state} />
    ${
      state.data
        ? html`<${Table} caption="Admin API tokens" rows=${state.data.data} empty="No admin API tokens." columns=${[
            { label: 'Label', value: (t) => t.label },
            { label: 'Token', value: (t) => html`<code>${t.prefix}…</code>` },
            { label: 'Actions it may perform', value: (t) => (t.actions ? t.actions.join(', ') : 'all of yours') },
            { label: 'Expires', value: (t) => when(t.expires_at) },
            { label: 'Status', value: (t) => (t.revoked_at ? 'revoked' : 'active') },
            ...(can('token.write')
              ? [
                  {
                    label: 'Revoke',
                    value: (t) =>
                      t.revoked_at
                        ? '–'
                        : html`<button type="button" class="danger" aria-label=${`Revoke token ${t.label}`}
        onClick=${() => act(() => api('DELETE', `/tokens/${encodeURIComponent(t.id)}`))}>Revoke</button>`,
                  },
                ]
              : []),
          ]} />`
        : null
    }
  </section>`;
}

export function Access({ me, can }) {
  return html`
    ${can('tenant.read') ? html`<${Tenant} me=${me} />` : null}
    ${can('team.read') ? html`<${Teams} can=${can} />` : null}
    ${can('user.read') ? html`<${Users} me=${me} can=${can} />` : null}
    ${can('key.read_own') ? html`<${ApiKeys} can=${can} />` : null}
    ${can('client.read') ? html`<${OAuthClients} can=${can} />` : null}
    <${AdminTokens} can=${can} />`;
}
