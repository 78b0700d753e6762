/**
 * Serves the console (web/) at /console on the admin API's listener: the page, its scripts and
 * styles, and the few browser libraries it uses straight from node_modules (no build step, so
 * `npm ci && npm start` serves it). Everything is read into memory (and gzipped) when the
 * gateway starts, so a missing file fails the start, not a page load, and no request path ever
 * reaches the file system.
 *
 * Every answer carries a strict Content-Security-Policy: scripts and styles from this origin
 * only (plus the import map, allowed by its hash), no inline code, no eval, no framing, no
 * other origin. The console holds no authority: every action is an admin API call that the
 * server authenticates, CSRF-checks and role-checks.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { extname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

export const CONSOLE_PREFIX = '/console';
const WEB_DIR = resolve(import.meta.dirname, '..', '..', 'web');

/** Browser libraries, served under /console/vendor/: URL name → [package, file in the package]. */
export const VENDOR_FILES: Readonly<Record<string, readonly [string, string]>> = {
  'preact.mjs': ['preact', 'dist/preact.mjs'],
  'hooks.mjs': ['preact', 'hooks/dist/hooks.mjs'],
  'htm.mjs': ['htm', 'dist/htm.mjs'],
  'uplot.mjs': ['uplot', 'dist/uPlot.esm.js'],
  'uplot.css': ['uplot', 'dist/uPlot.min.css'],
  'qrcode.mjs': ['qrcode-generator', 'dist/qrcode.mjs'],
};

/** The console's own files under web/ (served as /console/<name>). */
export const WEB_FILES = [
  'index.html',
  'console.css',
  'app.js',
  'api.js',
  'ui.js',
  'chart.js',
  'sign-in.js',
  'overview.js',
  'security.js',
  'security-guard.js',
  'access.js',
  'access-keys.js',
  'traffic.js',
  'policies.js',
  'portal.js',
  'favicon.svg',
] as const;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
}

export interface ConsoleHandler {
  handles(path: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The Content-Security-Policy every answer carries. */
  readonly csp: string;
  /** Bytes of JavaScript the browser downloads, raw and gzipped (the budget in docs/console.md). */
  readonly scriptBytes: { readonly raw: number; readonly gzip: number };
}

function packageRoot(name: string): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve(name);
  const marker = `${join('node_modules', name)}`;
  const at = entry.lastIndexOf(marker);
  if (at === -1) throw new Error(`console: cannot locate the package ${name} (resolved ${entry})`);
  return entry.slice(0, at + marker.length);
}

function asset(path: string, body: Buffer): Asset {
  return {
    type: TYPES[extname(path)] ?? 'application/octet-stream',
    body,
    gzip: gzipSync(body, { level: 9 }),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

/** The import map's script element in index.html, whose hash the CSP allows. */
const IMPORT_MAP = /<script type="importmap">([\s\S]*?)<\/script>/;

export function createConsoleHandler(): ConsoleHandler {
  const assets = new Map<string, Asset>();
  for (const name of WEB_FILES) assets.set(`${CONSOLE_PREFIX}/${name}`, asset(name, readFileSync(join(WEB_DIR, name))));
  for (const [name, [pkg, file]] of Object.entries(VENDOR_FILES)) {
    assets.set(`${CONSOLE_PREFIX}/vendor/${name}`, asset(name, readFileSync(join(packageRoot(pkg), file))));
  }
  const html = assets.get(`${CONSOLE_PREFIX}/index.html`)!.body.toString('utf8');
  const importMap = IMPORT_MAP.exec(html);
  if (importMap === null) throw new Error('console: web/index.html has no import map');
  const mapHash = createHash('sha256').update(importMap[1]!, 'utf8').digest('base64');
  const csp = [
    "default-src 'none'",
    `script-src 'self' 'sha256-${mapHash}'`,
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  const headers = {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  } as const;
  let raw = 0;
  let gz = 0;
  for (const [path, a] of assets) {
    if (/\.m?js$/.test(path)) {
      raw += a.body.length;
      gz += a.gzip.length;
    }
  }

  function send(res: ServerResponse, status: number, extra: Record<string, string>, body: Buffer | string = ''): void {
    res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body), ...extra });
    res.end(body);
  }

  return {
    csp,
    scriptBytes: { raw, gzip: gz },
    handles(path) {
      return path === CONSOLE_PREFIX || path.startsWith(`${CONSOLE_PREFIX}/`);
    },
    handle(req, res) {
      const path = (req.url ?? '/').split('?')[0]!;
      const method = req.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') {
        send(res, 405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, 'method not allowed\n');
        return;
      }
      if (path === CONSOLE_PREFIX) {
        send(res, 308, { location: `${CONSOLE_PREFIX}/` });
        return;
      }
      const a = assets.get(path === `${CONSOLE_PREFIX}/` ? `${CONSOLE_PREFIX}/index.html` : path);
      if (a === undefined) {
        send(res, 404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, 'not found\n');
        return;
      }
      // Revalidated on every load (cheap with the ETag), so an upgraded gateway never serves a stale mix.
      const common = { 'content-type': a.type, etag: a.etag, 'cache-control': 'no-cache', vary: 'accept-encoding' };
      if (req.headers['if-none-match'] === a.etag) {
        send(res, 304, { etag: a.etag, 'cache-control': 'no-cache', vary: 'accept-encoding' });
        return;
      }
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const body = gzip ? a.gzip : a.body;
      res.writeHead(200, {
        ...headers,
        ...common,
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        'content-length': body.length,
      });
      res.end(method === 'HEAD' ? undefined : body);
    },
  };
}
