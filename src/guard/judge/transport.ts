/**
 * The judge's way out: its configured model route, called through `upstream/` like any
 * request (the route's targets, pools, address guard, TLS checks and deadline), but outside the
 * stage chain: the judge's own call is not guarded, limited or metered as a client request.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../observability/logger.ts';
import type { ModelRouteConfig } from '../../providers/config-types.ts';
import type { Upstream, UpstreamCall } from '../../upstream/index.ts';
import type { JudgeTransport } from './index.ts';

export function createJudgeTransport(
  models: ReadonlyMap<string, ModelRouteConfig>,
  upstream: Upstream,
  log: Logger,
): JudgeTransport {
  const call = (model: string, signal: AbortSignal): UpstreamCall => {
    const route = models.get(model);
    if (route === undefined) throw new Error(`judge: no model route ${model}`);
    const requestId = `judge-${randomUUID()}`;
    return { requestId, publicModel: model, route, signal, log: log.child({ requestId, judge: model }) };
  };
  return {
    async chat(model, body, signal) {
      const r = await upstream.chat(call(model, signal), { ...body, stream: false });
      if (r.kind !== 'chat') throw new Error('judge: the route answered with a stream');
      return r.body;
    },
    async moderate(model, input, signal) {
      return (await upstream.moderations(call(model, signal), input)).body;
    },
  };
}
