/** Declared keys of the `logging` section (read by logging-config.ts). */
import { configSection, oneOf, section } from '../config/keys.ts';

export const LOGGING_SPEC = configSection(
  'logging',
  section({
    level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'log level'),
    format: oneOf(
      ['json', 'pretty'],
      'json',
      '`json`: one JSON object per line (production, log shippers); `pretty`: one readable line per event, the level coloured on a terminal (`NO_COLOR`/`FORCE_COLOR` honoured), for development; `portcullis start --log-format` overrides it',
    ),
  }),
);
