/**
 * The admin API server: serves `/admin/v1/*` from a list of AdminRoutes (src/admin/routes.ts).
 * The lifecycle of a call is fixed here, in this order, before any route code runs:
 *   match (404/405) → origin (403) → authenticate (401) → CSRF token (403) → RBAC (403, audited)
 *   → strict JSON body (415/413/400) → audit record (503 if it cannot be written) → handler.
 * Errors are `{"error":{"code","message"}}` from the catalogue; nothing internal leaks.
 */
import { randomUUIDv7 } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditEntry } from '../audit/types.ts';
import { type GatewayError, gatewayError, isGatewayError } from '../errors/gateway-error.ts';
import { csrfTokenMatches } from '../identity/admin/admin-secrets.ts';
import type { AdminAuthenticator, Authenticated } from '../identity/admin/authenticate.ts';
import type { Logger } from '../observability/logger.ts';
import type { ClientIpResolver } from '../server/client-ip.ts';
import { readBody } from '../server/read-body.ts';
import { principalAllows } from './rbac.ts';
import type { AdminMethod, AdminRequest, AdminResponse, AdminRoute } from './types.ts';

export const ADMIN_PREFIX = '/admin/v1';
export const CSRF_HEADER = 'x-csrf-token';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const MAX_JSON_DEPTH = 16;
const SEGMENT = /^[A-Za-z0-9._~-]{1,200}$/;

const SECURITY_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
} as const;

export interface AdminHandlerOptions {
  readonly routes: readonly AdminRoute[];
  readonly authenticator: AdminAuthenticator;
  /** The server secret the CSRF tokens are derived with. */
  readonly secret: Buffer;
  /** Appends an audit record; rejects when it cannot (the call is then refused). */
  readonly audit: (entry: AuditEntry) => Promise<void>;
  readonly log: Logger;
  readonly maxBodyBytes: number;
  /** Whether the admin API is reached over HTTPS (the same-origin check's scheme). */
  readonly https: boolean;
  /** Extra origins treated as our own (the admin console's public URL behind a proxy). */
  readonly allowedOrigins?: readonly string[];
  readonly clientIp?: ClientIpResolver;
}

export interface AdminHandler {
  /** True for paths under `/admin/v1` (the main listener hands these over). */
  handles(path: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

interface CompiledRoute {
  readonly route: AdminRoute;
  readonly segments: readonly string[];
}

function compile(routes: readonly AdminRoute[]): CompiledRoute[] {
  const seen = new Set<string>();
  return routes.map((route) => {
    if (!route.path.startsWith(`${ADMIN_PREFIX}/`))
      throw new Error(`admin route ${route.method} ${route.path} is not under ${ADMIN_PREFIX}`);
    const segments = route.path.slice(1).split('/');
    const shape = `${route.method} ${segments.map((s) => (s.startsWith(':') ? ':' : s)).join('/')}`;
    if (seen.has(shape)) throw new Error(`admin route ${route.method} ${route.path} is declared twice`);
    seen.add(shape);
    if (route.auth === 'public' && route.action !== 'self')
      throw new Error(`public admin route ${route.path} must have action "self"`);
    return { route, segments };
  });
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = parts[i]!;
    else if (p !== parts[i]) return undefined;
  }
  return params;
}

function depthOf(value: unknown, depth = 0): number {
  if (depth > MAX_JSON_DEPTH || value === null || typeof value !== 'object') return depth;
  let max = depth;
  for (const v of Object.values(value)) max = Math.max(max, depthOf(v, depth + 1));
  return max;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
  headers: Readonly<Record<string, string | string[]>> = {},
): void {
  // A string body with its own content-type (an audit export) is sent as it is; anything else is JSON.
  const raw = typeof body === 'string' && headers['content-type'] !== undefined;
  const payload = status === 204 || body === undefined ? '' : raw ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...headers,
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestId,
  });
  res.end(payload);
}

export function sendAdminError(res: ServerResponse, err: GatewayError, requestId: string): void {
  const headers: Record<string, string> = { 'x-portcullis-error-code': err.code, ...err.headers };
  if (err.retryAfterS !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterS)));
  if (err.status === 401) headers['www-authenticate'] = 'Bearer realm="portcullis-admin"';
  const error: Record<string, unknown> = { code: err.code, message: err.publicMessage };
  if (err.param !== undefined) error.param = err.param;
  if (err.details !== undefined) error.details = err.details;
  send(res, err.status, { error }, requestId, headers);
}

export function createAdminHandler(opts: AdminHandlerOptions): AdminHandler {
  const compiled = compile(opts.routes);
  const { authenticator, log } = opts;
  if (!Number.isInteger(opts.maxBodyBytes) || opts.maxBodyBytes < 1024)
    throw new RangeError('admin maxBodyBytes must be an integer of at least 1024');
  const allowedOrigins = new Set((opts.allowedOrigins ?? []).map((o) => o.toLowerCase()));
  const scheme = opts.https ? 'https' : 'http';

  function sameOrigin(req: IncomingMessage): boolean | undefined {
    const origin = req.headers.origin;
    if (origin === undefined) {
      // No Origin (older browsers, non-browser clients): Fetch Metadata still tells a cross-site browser call apart.
      const site = req.headers['sec-fetch-site'];
      return site === undefined || site === 'same-origin' || site === 'none' ? undefined : false;
    }
    const o = origin.toLowerCase();
    if (allowedOrigins.has(o)) return true;
    const host = req.headers.host?.toLowerCase();
    return host !== undefined && o === `${scheme}://${host}`;
  }

  function auditEntry(
    route: AdminRoute,
    who: Authenticated,
    req: AdminRequest,
    decision: 'allowed' | 'refused',
    reason: string | null,
  ): AuditEntry {
    const p = who.principal;
    const target = Object.values(req.params)[0] ?? null;
    return {
      actor: { kind: 'admin', id: p.userId, tenant: p.tenantId },
      action: `admin.${route.action}`,
      target,
      decision,
      reason,
      requestId: req.requestId,
      metadata: {
        method: route.method,
        route: route.path,
        via: p.via,
        token_id: p.tokenId ?? null,
        role: p.role,
        source_ip: req.remoteAddress,
      },
    };
  }

  async function readJson(req: IncomingMessage, method: string): Promise<unknown> {
    const length = req.headers['content-length'];
    const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (!hasBody) return undefined;
    if (!BODY_METHODS.has(method))
      throw gatewayError('request.invalid', {
        params: { path: '(body)', detail: `a ${method} request takes no body` },
      });
    const type = (req.headers['content-type'] ?? '')
      .toLowerCase()
      .split(';')
      .map((s) => s.trim());
    if (type[0] !== 'application/json' || type.slice(1).some((p) => p !== '' && p !== 'charset=utf-8'))
      throw gatewayError('request.unsupported_media_type');
    const raw = await readBody(req, opts.maxBodyBytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
    } catch (err) {
      throw gatewayError('request.invalid_json', {
        params: { detail: err instanceof SyntaxError ? 'syntax error' : 'not UTF-8' },
      });
    }
    if (depthOf(parsed) > MAX_JSON_DEPTH) throw gatewayError('request.too_deep', { params: { limit: MAX_JSON_DEPTH } });
    return parsed;
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const method = req.method ?? 'GET';
    const parts = url.pathname.slice(1).split('/');
    if (parts.slice(2).some((s) => !SEGMENT.test(s)))
      throw gatewayError('request.not_found', { params: { method, path: url.pathname.slice(0, 200) } });
    const candidates = compiled.flatMap((c) => {
      const params = matchSegments(c.segments, parts);
      return params === undefined ? [] : [{ c, params }];
    });
    if (candidates.length === 0)
      throw gatewayError('request.not_found', { params: { method, path: url.pathname.slice(0, 200) } });
    // A literal segment beats a parameter (`/users/me` over `/users/:id`).
    const hit = candidates
      .filter((x) => x.c.route.method === method)
      .sort((a, b) => Object.keys(a.params).length - Object.keys(b.params).length)[0];
    if (hit === undefined) {
      const allowed = [...new Set(candidates.map((x) => x.c.route.method))].join(', ');
      throw gatewayError('request.method_not_allowed', {
        params: { method, path: url.pathname, allowed },
        headers: { allow: allowed },
      });
    }
    const route = hit.c.route;
    const remoteAddress = (opts.clientIp ?? ((peer: string) => peer))(
      req.socket.remoteAddress ?? '',
      req.headers['x-forwarded-for'],
    );

    // Cross-site checks come first, for public routes too (login CSRF would sign a victim into the attacker's account).
    const unsafe = UNSAFE.has(method);
    if (unsafe && sameOrigin(req) === false)
      throw gatewayError('admin.csrf', { params: { detail: 'the request came from another origin' } });

    let who: Authenticated | undefined;
    if (route.auth === 'principal') {
      who = await authenticator.authenticate(req.headers);
      if (who === undefined) throw gatewayError('admin.unauthenticated');
      if (unsafe && who.principal.via === 'session') {
        const presented = req.headers[CSRF_HEADER];
        if (typeof presented !== 'string' || presented.length === 0)
          throw gatewayError('admin.csrf', { params: { detail: `the ${CSRF_HEADER} header is missing` } });
        if (!csrfTokenMatches(opts.secret, who.sessionId!, presented))
          throw gatewayError('admin.csrf', { params: { detail: `the ${CSRF_HEADER} header is wrong` } });
      }
    }

    const request: AdminRequest = {
      principal: who?.principal,
      params: hit.params,
      query: url.searchParams,
      body: undefined,
      requestId,
      remoteAddress,
      headers: req.headers,
    };
    if (who !== undefined) {
      if (!principalAllows(who.principal, route.action)) {
        const err = gatewayError('rbac.forbidden', { params: { role: who.principal.role, action: route.action } });
        await opts
          .audit(auditEntry(route, who, request, 'refused', err.code))
          .catch((e: unknown) => log.error({ err: e, requestId }, 'could not audit a refused admin call'));
        throw err;
      }
    }

    const body = await readJson(req, method);
    if (who !== undefined) {
      try {
        await opts.audit(auditEntry(route, who, request, 'allowed', null));
      } catch (err) {
        throw gatewayError('audit.unavailable', { cause: err });
      }
    }
    let response: AdminResponse;
    try {
      response = await route.handle({ ...request, body });
    } catch (err) {
      if (who !== undefined && isGatewayError(err) && err.status < 500) {
        // The call was recorded as allowed before it ran; say how it ended.
        await opts
          .audit(auditEntry(route, who, request, 'refused', err.code))
          .catch((e: unknown) => log.error({ err: e, requestId }, 'could not audit a refused admin call'));
      }
      throw err;
    }
    send(res, response.status, response.body, requestId, response.headers);
  }

  return {
    handles(path) {
      return path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`);
    },
    async handle(req, res) {
      const requestId = randomUUIDv7(); // time-ordered, as the model API's (src/server/handler.ts)
      try {
        await dispatch(req, res, requestId);
      } catch (err) {
        const gerr = isGatewayError(err) ? err : gatewayError('internal.error', { params: { requestId }, cause: err });
        if (gerr.status >= 500)
          log.error({ err: gerr.cause ?? gerr, code: gerr.code, requestId }, 'admin request failed');
        else log.debug({ code: gerr.code, internal: gerr.internal, requestId }, 'admin request refused');
        if (res.headersSent) res.destroy();
        else sendAdminError(res, gerr, requestId);
      }
    },
  };
}

/** The methods an AdminRoute may use (for route modules validating their own tables). */
export const ADMIN_METHODS: readonly AdminMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
