/**
 * The `pg` driver, loaded on first use: about 10 MB of a process (measured alone on Node 24)
 * that a gateway on SQLite never needs. Modules import its types only (`import type pg`) and
 * reach its classes through pgModule().
 */
import { createRequire } from 'node:module';

type PgModule = typeof import('pg').default;

const requireHere = createRequire(import.meta.url);
let loaded: PgModule | undefined;

export function pgModule(): PgModule {
  loaded ??= requireHere('pg') as PgModule;
  return loaded;
}
