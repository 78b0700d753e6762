/**
 * Contracts shared by the admin API's parts: who is calling (the principal, set by admin
 * authentication) and what a route looks like (each resource module exports its routes; the
 * admin server authenticates, checks CSRF, parses the body strictly and dispatches).
 */

import type { AdminRole } from '../identity/admin/roles.ts';

export interface AdminPrincipal {
  /** The admin user acting (for admin API tokens: the user the token belongs to). */
  readonly userId: string;
  readonly tenantId: string;
  readonly role: AdminRole;
  /** The user's team; team managers and developers act only inside it. */
  readonly teamId: string | null;
  /** How the call was authenticated. */
  readonly via: 'session' | 'token';
  /** Admin API tokens only: the token id (for audit) and the actions it was limited to (undefined = the role's). */
  readonly tokenId?: string;
  readonly tokenActions?: readonly string[];
}

export type AdminMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface AdminRequest {
  /** Set for every route whose `auth` is 'principal'. */
  readonly principal: AdminPrincipal | undefined;
  /** Path parameters from `:name` segments. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Parsed JSON body (undefined when the request had none). Validate strictly: unknown fields are errors. */
  readonly body: unknown;
  readonly requestId: string;
  readonly remoteAddress: string;
  /** Lower-cased request headers. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface AdminResponse {
  readonly status: number;
  /** Sent as JSON; a string with a `content-type` header of its own is sent as it is (exports). */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string | string[]>>;
}

export interface AdminRoute {
  readonly method: AdminMethod;
  /** Path under the admin prefix with `:param` segments, e.g. `/admin/v1/teams/:teamId`. */
  readonly path: string;
  /** 'public': no principal needed (login); 'principal': an authenticated admin. */
  readonly auth: 'public' | 'principal';
  /** The RBAC action this route performs (documentation, the role-matrix test, audit). */
  readonly action: string;
  /** Throws GatewayError for refusals (authorization, validation, not found). */
  handle(req: AdminRequest): Promise<AdminResponse>;
}
