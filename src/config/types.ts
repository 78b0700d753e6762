/**
 * The resolved, validated configuration. YAML keys are snake_case; these types are the
 * camelCase result of `loadConfig` after validation, defaults and `${…}` secret resolution.
 * Everything here is frozen at startup.
 */

import type { AdminConfig } from '../admin/config-types.ts';
import type { AlertsConfig } from '../alerts/config-types.ts';
import type { AuditConfig } from '../audit/config-types.ts';
import type { PricingConfig } from '../cost/config-types.ts';
import type { SecurityConfig } from '../crypto/config-types.ts';
import type { GuardrailsConfig } from '../guard/config-types.ts';
import type { AuthConfig } from '../identity/config-types.ts';
import type { OAuthServerConfig } from '../identity/oauth/config-types.ts';
import type { BudgetsConfig } from '../limits/budgets/config-types.ts';
import type { LimitsConfig, RedisLimitsConfig } from '../limits/config-types.ts';
import type { LoggingConfig } from '../observability/logging-config.ts';
import type { MetricsConfig } from '../observability/metrics/config-types.ts';
import type { TracingConfig } from '../observability/trace/config-types.ts';
import type { PayloadLogConfig } from '../payload-log/config-types.ts';
import type { PolicyConfig } from '../policy/config.ts';
import type { ModelRouteConfig, ProviderConfig } from '../providers/config-types.ts';
import type { ServerConfig } from '../server/config-types.ts';
import type { PayloadConfig } from '../stages/validate/config-types.ts';
import type { StoreConfig } from '../store/config-types.ts';
import type { ThreatDetectionConfig } from '../threats/config-types.ts';

export interface GatewayConfig {
  /** Where the config came from: a file path, or '<demo>'. */
  readonly source: string;
  /** The admin API (`admin`); undefined or `enabled: false`: not served. */
  readonly admin?: AdminConfig;
  readonly server: ServerConfig;
  readonly store: StoreConfig;
  readonly security: SecurityConfig;
  readonly logging: LoggingConfig;
  readonly payload: PayloadConfig;
  /** Encrypted payload logging (`payload_log`); absent or disabled: bodies are never stored. */
  readonly payloadLog?: PayloadLogConfig;
  readonly providers: ReadonlyMap<string, ProviderConfig>;
  readonly models: ReadonlyMap<string, ModelRouteConfig>;
  readonly auth: AuthConfig;
  /** The built-in OAuth 2.0 authorization server (`oauth_server`); undefined when not enabled. */
  readonly oauthServer?: OAuthServerConfig;
  readonly metrics: MetricsConfig;
  readonly tracing: TracingConfig;
  readonly audit: AuditConfig;
  readonly limits: LimitsConfig;
  /** The shared Redis (top-level `redis`, or the older `limits.redis`); undefined: none. */
  readonly redis: RedisLimitsConfig | undefined;
  /** Detection rules and their actions (src/threats/). */
  readonly threatDetection: ThreatDetectionConfig;
  /** Signed alert webhooks (src/alerts/). */
  readonly alerts: AlertsConfig;
  /** Price overrides (`pricing`) on top of the built-in price list (src/cost/). */
  readonly pricing: PricingConfig;
  /** Spending budgets (`budgets`, src/stages/budget/). */
  readonly budgets: BudgetsConfig;
  /** Guardrail policies (`guardrails`, src/guard/config.ts): detectors and actions per route, team, key or tenant. */
  readonly guardrails: GuardrailsConfig;
  /** Live policy (`policy`, bootstrap): the two-person rule, store poll and heartbeat periods. */
  readonly policy: PolicyConfig;
}
