// The console's only way to the server: the documented admin API under /admin/v1, same origin,
// with the session cookie (sent by the browser, HttpOnly) and the CSRF token on every change.
let csrfToken = null;
let onSignedOut = () => {};

export function setCsrfToken(token) {
  csrfToken = token ?? null;
}
export function whenSignedOut(fn) {
  onSignedOut = fn;
}

export class ApiError extends Error {
  constructor(status, code, message, param, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = param;
    this.details = details;
  }
}

async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(`/admin/v1${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res;
}

async function failure(res) {
  let err = {};
  try {
    err = (await res.json()).error ?? {};
  } catch {
    /* not JSON */
  }
  const e = new ApiError(
    res.status,
    err.code ?? `http.${res.status}`,
    err.message ?? res.statusText,
    err.param,
    err.details,
  );
  if (res.status === 401 && e.code !== 'admin.invalid_credentials' && e.code !== 'admin.mfa_required') onSignedOut();
  return e;
}

export async function api(method, path, body) {
  const res = await call(method, path, body);
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return undefined;
  return res.json();
}

/** A file answer (audit export, CSV) saved through a temporary link. */
export async function download(path, fallbackName) {
  const res = await call('GET', path);
  if (!res.ok) throw await failure(res);
  const disposition = res.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}

/** Query string from an object, leaving out empty values. */
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
