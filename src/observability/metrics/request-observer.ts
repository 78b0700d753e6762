/**
 * Turns what the handler, the terminal and identify report into metric observations. Only
 * names the config knows and fixed vocabularies reach labels (see labels.ts).
 */

import type { RequestContext } from '../../core/context.ts';
import type { MeteredUsage } from '../../cost/meter-usage.ts';
import type { SecurityEventListener } from '../../events/security-events.ts';
import type { AttemptReport } from '../../upstream/index.ts';
import type { Logger } from '../logger.ts';
import type { GatewayMetrics } from './gateway-metrics.ts';
import { OTHER } from './labels.ts';

export interface MetricsObservers {
  /** For the handler: once per request, after the response ended. */
  readonly request: {
    requestEnded(ctx: RequestContext, route: string): void;
    requestRefused(route: string, status: number, code: string, durationMs: number): void;
  };
  /** For the terminal: every upstream attempt. */
  readonly attempt: (a: AttemptReport) => void;
  /** For identify: every refused caller, with the reason it logs. */
  readonly authFailure: (reason: string) => void;
  /** For the meter: each request's metered tokens and cost, as recorded. */
  readonly metered: (ctx: RequestContext, metered: MeteredUsage) => void;
  /** For the security event bus: lockouts and threat firings. */
  readonly securityEvent: SecurityEventListener;
}

const THREAT_PREFIX = 'threat.';

/**
 * What an `auth.lockout` event locked. Identify names the subject (`ip:…`, `key:…`); the admin
 * login and the OAuth client endpoint say who they are through their detail fields.
 */
export function lockoutKindOf(detail: Readonly<Record<string, unknown>> | undefined): string {
  if (detail === undefined) return 'other';
  if (detail['method'] === 'oauth_client') return 'oauth_client';
  if (detail['lockout_subject'] !== undefined) return 'admin';
  const subject = detail['subject'];
  if (typeof subject === 'string') {
    const kind = subject.slice(0, subject.indexOf(':') + 1);
    if (kind === 'ip:') return 'ip';
    if (kind === 'key:') return 'key';
  }
  return 'other';
}

/**
 * Observers never throw into the request path: a metrics bug must not fail or skip the rest of
 * a request's bookkeeping. A failure is logged once.
 */
export function createMetricsObservers(metrics: GatewayMetrics, log: Logger): MetricsObservers {
  let reported = false;
  const safely =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args);
      } catch (err) {
        if (!reported) {
          reported = true;
          log.error({ err }, 'recording metrics failed (reported once)');
        }
      }
    };
  return {
    request: {
      requestEnded: safely((ctx: RequestContext, route: string) => {
        const o = ctx.outcome;
        const model = ctx.route?.publicModel;
        const provider = o.target?.provider;
        metrics.observeRequest({
          route,
          model,
          provider,
          status: o.status,
          aborted: o.clientAborted,
          code: o.errorCode,
          durationS: (performance.now() - ctx.startedAt) / 1000,
        });
        metrics.observeRefusal(o.errorCode);
        if (o.usage !== undefined)
          metrics.observeTokens(model, provider, o.usage.prompt_tokens, o.usage.completion_tokens);
        if (ctx.response?.kind === 'chat-stream' && o.firstByteMs !== undefined) {
          metrics.observeStreamFirstByte(route, model, o.firstByteMs / 1000);
        }
      }),
      requestRefused: safely((route: string, status: number, code: string, durationMs: number) => {
        metrics.observeRequest({
          route,
          model: undefined,
          provider: undefined,
          status,
          aborted: false,
          code,
          durationS: durationMs / 1000,
        });
        metrics.observeRefusal(code);
      }),
    },
    attempt: safely((a: AttemptReport) =>
      metrics.observeAttempt(a.target.provider, a.target.model, a.result, a.latencyMs / 1000),
    ),
    authFailure: safely((reason: string) => metrics.observeAuthFailure(reason)),
    metered: safely((ctx: RequestContext, metered: MeteredUsage) => {
      metrics.observeCost(ctx.route?.publicModel, ctx.outcome.target?.provider, metered.costMicros);
    }),
    securityEvent: safely((event: Parameters<SecurityEventListener>[0]) => {
      if (event.type === 'auth.lockout') metrics.observeLockout(lockoutKindOf(event.detail));
      else if (event.type === 'guard.violation' || event.type === 'guard.unavailable') {
        const d = event.detail ?? {};
        const action = event.type === 'guard.unavailable' ? `error_${String(d['action'])}` : d['action'];
        metrics.observeGuardDecision(
          String(d['kind']),
          typeof action === 'string' ? action : OTHER,
          String(d['direction']),
          typeof d['model'] === 'string' ? d['model'] : undefined,
        );
      } else if (event.type.startsWith(THREAT_PREFIX)) {
        const action = event.detail?.['action'];
        metrics.observeThreatFiring(
          event.type.slice(THREAT_PREFIX.length),
          typeof action === 'string' ? action : 'other',
        );
      }
    }),
  };
}
