// The console shell: who is signed in (GET /me), the pages their role may see, hash routing.
// What is shown follows the actions /me lists; the server checks every call regardless.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Access } from './access.js';
import { api, setCsrfToken, whenSignedOut } from './api.js';
import { Overview } from './overview.js';
import { Policies } from './policies.js';
import { Portal } from './portal.js';
import { Security } from './security.js';
import { Enrol, SignIn } from './sign-in.js';
import { Traffic } from './traffic.js';
import { html } from './ui.js';

const PAGES = [
  { id: 'overview', title: 'Overview', allowed: (can) => can('usage.read'), view: Overview },
  {
    id: 'security',
    title: 'Security',
    allowed: (can) => can('security_event.read') || can('audit.read') || can('compliance.read'),
    view: Security,
  },
  { id: 'access', title: 'Access', allowed: () => true, view: Access },
  { id: 'traffic', title: 'Traffic', allowed: (can) => can('config.read') || can('usage.read'), view: Traffic },
  { id: 'policies', title: 'Policies', allowed: (can) => can('policy.read'), view: Policies },
  { id: 'portal', title: 'Portal', allowed: (can) => can('api.read'), view: Portal },
];

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash.replace(/^#\/?/, '');
}

function App() {
  const [me, setMe] = useState(undefined);
  const [notice, setNotice] = useState(null);
  const route = useHash();

  const loadMe = async () => {
    try {
      const m = await api('GET', '/me');
      setCsrfToken(m.csrf_token ?? null);
      setMe(m);
    } catch {
      setCsrfToken(null);
      setMe(null);
    }
  };
  useEffect(() => {
    whenSignedOut(() => {
      setCsrfToken(null);
      setMe(null);
      setNotice('Your session has ended. Sign in again.');
    });
    loadMe();
  }, []);

  if (me === undefined) return html`<main class="centered" id="main"><p>Loading…</p></main>`;
  if (me === null) {
    if (route === 'enrol') return html`<${Enrol} />`;
    return html`<${SignIn} notice=${notice} onSignedIn=${() => {
      setNotice(null);
      loadMe();
    }} />`;
  }

  const actions = new Set(me.actions);
  const can = (a) => actions.has(a);
  const pages = PAGES.filter((p) => p.allowed(can));
  const page = pages.find((p) => p.id === route) ?? pages[0];
  const signOut = async () => {
    try {
      await api('DELETE', '/session');
    } catch {
      /* the session may be gone already */
    }
    setCsrfToken(null);
    setMe(null);
    setNotice('You are signed out.');
    location.hash = '';
  };
  const View = page.view;
  return html`<div class="shell">
    <a class="skip" href="#main" onClick=${(e) => {
      e.preventDefault();
      document.getElementById('main')?.focus();
    }}>Skip to content</a>
    <header class="top">
      <span class="brand">Portcullis</span>
      <nav aria-label="Console pages"><ul>
        ${pages.map((p) => html`<li><a href=${`#/${p.id}`} aria-current=${p.id === page.id ? 'page' : null}>${p.title}</a></li>`)}
      </ul></nav>
      <div class="who">
        <span>${me.user.email} <span class="role">${me.user.role}</span></span>
        <button type="button" class="secondary" onClick=${signOut}>Sign out</button>
      </div>
    </header>
    <main id="main" tabindex="-1">
      <h1>${page.title}</h1>
      <${View} me=${me} can=${can} />
    </main>
  </div>`;
}

render(html`<${App} />`, document.getElementById('app'));
