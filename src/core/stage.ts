/**
 * The Stage contract. A stage is one small module with one job. Each hook either returns
 * (continue) or throws a GatewayError (stop: the request ends with that error).
 *
 * - onRequest runs in chain order before the terminal handler (the upstream call).
 * - onDecision runs in chain order once every onRequest has passed, just before the terminal:
 *   the request is allowed, and this is where a stage commits that decision (the audit stage
 *   writes the `allowed` record and waits for it to be durable). A throw still refuses the
 *   request. Refusing because of what the request *is* belongs in onRequest; onDecision throws
 *   only when the decision cannot be committed.
 * - onResponse runs in reverse order once the terminal handler has put `ctx.response`; a
 *   stage may wrap a streaming response (`ctx.response.stream = wrap(...)`).
 * - onFinish runs in reverse order after the response has been fully written, failed or been
 *   abandoned by the client, for every stage whose onRequest was entered. It must not throw;
 *   the pipeline logs what it throws and carries on.
 *
 * Factories (`createXStage(opts)`) validate their options when the gateway starts, so a
 * misconfiguration fails at startup, not on a request.
 */
import type { RequestContext } from './context.ts';

/**
 * The fixed order of the chain. A stage's name must be one of these. As in Envoy, response
 * hooks run in reverse, so a stage early in the chain sees the response last.
 */
export const STAGE_ORDER = [
  // Stages that must see every outcome come first: their onFinish runs last, and runs even
  // when a later stage refused the request.
  'audit',
  'meter',
  // Encrypted request/response bodies (when payload_log is enabled); sees the stream the client got.
  'payload_log',
  'identify',
  // The caller's tenant must not be suspended (`portcullis tenants suspend`).
  'tenant_status',
  // Right after identify: a throttled or suspended caller is refused before any other work.
  'detect',
  'validate',
  // Prompt APIs (src/apis/): resolves the API version, checks the caller's right to it and its
  // plan, validates the variables and renders the template into the chat request.
  'prompt_api',
  'authorize',
  'guard',
  'limit',
  // After limit (a rate-limited request reserves no money), before route (it prices every target).
  'budget',
  'route',
] as const;

export type StageName = (typeof STAGE_ORDER)[number];

export interface Stage {
  readonly name: StageName;
  onRequest?(ctx: RequestContext): void | Promise<void>;
  onDecision?(ctx: RequestContext): void | Promise<void>;
  onResponse?(ctx: RequestContext): void | Promise<void>;
  onFinish?(ctx: RequestContext): void | Promise<void>;
}

/** The last step of the chain (Envoy's router): it calls upstream and sets `ctx.response`. */
export type Terminal = (ctx: RequestContext) => Promise<void>;
