/**
 * The `re2js` package (RE2 in JavaScript: matching in time linear in the text), loaded on first
 * use: 260 KB of code that only prompt-API schemas with a `pattern` and deny-list detectors need.
 * Loaded with `require` (synchronously: both compile patterns while validating), so both users
 * share one copy, the package's CommonJS build. Modules import its types only.
 */
import { createRequire } from 'node:module';

type Re2jsModule = typeof import('re2js');

const requireHere = createRequire(import.meta.url);
let loaded: Re2jsModule | undefined;

export function re2jsModule(): Re2jsModule {
  loaded ??= requireHere('re2js') as Re2jsModule;
  return loaded;
}
