/**
 * The `jose` package, loaded on first use: 46 ES modules that only JWT issuers (`auth.jwt`) and
 * the OAuth server and client features need, and most gateways configure neither. Importing it
 * statically made every `start` load it. The first use is not known at start: live policy can add
 * a JWT issuer at run time, so callers ask for it where they need it, never once at start.
 * Other modules import only jose's types (`import type`), which are erased.
 */
import type * as JoseModule from 'jose';

export type Jose = typeof JoseModule;

let loading: Promise<Jose> | undefined;

/** jose itself; the first call imports it, later calls share that import. */
export function loadJose(): Promise<Jose> {
  loading ??= import('jose');
  return loading;
}
