// Sign-in (email, password, and a TOTP or recovery code) and first-time enrolment, whose
// otpauth:// URI is drawn as a QR code right here in the browser (nothing leaves the page).
import { useEffect, useRef, useState } from 'preact/hooks';
import qrcode from 'qrcode-generator';
import { api, setCsrfToken } from './api.js';
import { ErrorNote, html } from './ui.js';

export function SignIn({ onSignedIn, notice }) {
  const [useRecovery, setUseRecovery] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const body = { email: f.get('email'), password: f.get('password') };
    if (useRecovery) body.recovery_code = f.get('code');
    else body.totp_code = String(f.get('code')).replace(/\s/g, '');
    setBusy(true);
    setError(null);
    try {
      const r = await api('POST', '/session', body);
      setCsrfToken(r.csrf_token);
      onSignedIn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="centered" id="main">
    <form class="card narrow" onSubmit=${submit} aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in to Portcullis</h1>
      ${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
      <label for="email">Email</label>
      <input id="email" name="email" type="email" autocomplete="username" required />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required />
      <label for="code">${useRecovery ? 'Recovery code' : 'Authenticator code'}</label>
      <input id="code" name="code" required autocomplete="one-time-code"
        inputmode=${useRecovery ? 'text' : 'numeric'} pattern=${useRecovery ? null : '[0-9 ]{6,7}'} />
      <button type="button" class="link" onClick=${() => setUseRecovery(!useRecovery)}>
        ${useRecovery ? 'Use an authenticator code instead' : 'Use a recovery code instead'}
      </button>
      <${ErrorNote} error=${error} />
      <button type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
      <p class="muted">Invited? <a href="#/enrol">Set up your account</a> with your enrolment token.</p>
    </form>
  </main>`;
}

function QrCode({ text }) {
  const canvas = useRef(null);
  useEffect(() => {
    const qr = qrcode(0, 'M');
    qr.addData(text);
    qr.make();
    const n = qr.getModuleCount();
    const scale = 5;
    const quiet = 4;
    const c = canvas.current;
    c.width = c.height = (n + quiet * 2) * scale;
    const g = c.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, c.width, c.height);
    g.fillStyle = '#000';
    for (let r = 0; r < n; r++)
      for (let col = 0; col < n; col++)
        if (qr.isDark(r, col)) g.fillRect((col + quiet) * scale, (r + quiet) * scale, scale, scale);
  }, [text]);
  return html`<canvas ref=${canvas} class="qr" role="img" aria-label="QR code of the authenticator set-up link" data-qr></canvas>`;
}

export function Enrol() {
  const [error, setError] = useState(null);
  const [result, setResult] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setError(null);
    try {
      setResult(await api('POST', '/enrolment', { token: f.get('token'), password: f.get('password') }));
    } catch (err) {
      setError(err);
    }
  };
  if (result) {
    return html`<main class="centered" id="main"><section class="card" aria-labelledby="enrol-done">
      <h1 id="enrol-done">Add Portcullis to your authenticator</h1>
      <p>Scan this code with an authenticator app (or type the secret in), then sign in with a code it shows.</p>
      <${QrCode} text=${result.otpauth_uri} />
      <p>Secret: <code class="secret">${result.totp_secret}</code></p>
      <h2>Recovery codes</h2>
      <p>Each works once in place of a code. Keep them offline; they are shown only now.</p>
      <ul class="codes">${result.recovery_codes.map((c) => html`<li><code>${c}</code></li>`)}</ul>
      <a class="button" href="#/">Continue to sign in</a>
    </section></main>`;
  }
  return html`<main class="centered" id="main">
    <form class="card narrow" onSubmit=${submit} aria-labelledby="enrol-title">
      <h1 id="enrol-title">Set up your account</h1>
      <p class="muted">Paste the enrolment token your administrator gave you and choose a password (12 characters or more).</p>
      <label for="token">Enrolment token</label>
      <input id="token" name="token" required autocomplete="off" />
      <label for="new-password">Password</label>
      <input id="new-password" name="password" type="password" autocomplete="new-password" minlength="12" required />
      <${ErrorNote} error=${error} />
      <button type="submit">Set up</button>
      <p><a href="#/">Back to sign in</a></p>
    </form>
  </main>`;
}
