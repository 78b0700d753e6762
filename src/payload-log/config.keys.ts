/** Declared keys of the `payload_log` section (read by config.ts). */
import { bool, configSection, int, list, section, str } from '../config/keys.ts';

export const PAYLOAD_LOG_SPEC = configSection(
  'payload_log',
  section({
    enabled: bool(
      false,
      "store each model call's request and response bodies (streams: the assembled text), redacted then encrypted per tenant (see [Payload logging](security-model.md#payload-logging))",
    ),
    retention_days: int(1, 3650, 30, 'rows older than this are deleted at startup and every hour'),
    redact: list(str('a regular expression'), {
      maxItems: 100,
      default: '`[]`',
      allowed: 'list (≤ 100) of regular expressions (JavaScript syntax, 1–1000 chars, must not match the empty string)',
      doc: 'extra redaction rules applied after the built-in ones; each match becomes `[REDACTED:rule_<index>]`; an invalid pattern is a config error naming its index',
    }),
  }),
);
