/** For config tests: the problems a config is refused with, one `path: message` per line. */
import assert from 'node:assert/strict';
import { ConfigError } from './errors.ts';
import { parseConfig } from './load.ts';

/** Fails the test when the config is accepted (or refused with anything but a ConfigError). */
export function configProblems(yaml: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(yaml, '<test>', env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `refused with ${String(err)}, not a ConfigError`);
    return err.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
  }
  assert.fail('accepted');
}
