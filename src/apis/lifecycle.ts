/**
 * The version lifecycle: draft → published → deprecated → retired, one way. A draft's
 * definition may be replaced; from publication on a version is immutable. Deprecated versions
 * still answer, with the `Deprecation` (RFC 9745: a structured-field date, `@<unix seconds>`),
 * `Sunset` (RFC 8594: an HTTP-date) and `Link: <…>; rel="successor-version"` headers; retired
 * ones answer 410 naming the successor.
 */
import type { ApiVersionState } from '../store/prompt-api-records.ts';
import type { ResolvedApiCall } from './call.ts';

export const LIFECYCLE_ACTIONS = ['publish', 'deprecate', 'retire'] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

export const TRANSITIONS: Readonly<Record<LifecycleAction, { from: ApiVersionState; to: ApiVersionState }>> = {
  publish: { from: 'draft', to: 'published' },
  deprecate: { from: 'published', to: 'deprecated' },
  retire: { from: 'deprecated', to: 'retired' },
};

/** Headers a deprecated version answers with; undefined for any other state. */
export function lifecycleHeaders(call: ResolvedApiCall): Record<string, string> | undefined {
  const v = call.version;
  if (v.state !== 'deprecated' || v.deprecatedAt === null) return undefined;
  const headers: Record<string, string> = {
    deprecation: `@${Math.floor(Date.parse(v.deprecatedAt) / 1000)}`,
  };
  if (v.sunsetAt !== null) headers.sunset = new Date(v.sunsetAt).toUTCString();
  if (v.successor !== null)
    headers.link = `</apis/${encodeURIComponent(call.api.name)}/${v.successor}>; rel="successor-version"`;
  return headers;
}
