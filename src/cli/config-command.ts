import { checkConfigFile } from '../config/check.ts';
import { parseCommandArgs } from './args.ts';
import { UsageError } from './usage-error.ts';

export const CONFIG_HELP = `Usage: portcullis config check [FILE]

Validates a config file (default: $PORTCULLIS_CONFIG or ./portcullis.yaml) without starting
anything: every problem is listed with the file, line and path, and the exit code is 2 when
there is any. Secret references (\${ENV}, \${file:…}) must resolve, but their values are never printed.
`;

export async function runConfig(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {}, CONFIG_HELP, true);
  if (values.help) {
    process.stdout.write(CONFIG_HELP);
    return 0;
  }
  const [sub, file, ...extra] = positionals;
  if (sub !== 'check' || extra.length > 0) throw new UsageError(`expected "config check [FILE]"\n\n${CONFIG_HELP}`);
  const path = file ?? process.env.PORTCULLIS_CONFIG ?? 'portcullis.yaml';
  const result = checkConfigFile(path);
  (result.ok ? process.stdout : process.stderr).write(`${result.text}\n`);
  return result.ok ? 0 : 2;
}
