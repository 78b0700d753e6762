/**
 * The `redis` package, loaded on first use. It and its dependencies add about 29 MB to a
 * process (measured alone on Node 24), and most deployments never configure Redis: importing
 * it statically made every `start` pay for it. Only types are imported at module level.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

type RedisModule = typeof import('redis');
type RedisScriptConfig = Parameters<RedisModule['defineScript']>[0];

const requireHere = createRequire(import.meta.url);
let loaded: RedisModule | undefined;

export function redisModule(): RedisModule {
  loaded ??= requireHere('redis') as RedisModule;
  return loaded;
}

/**
 * What `defineScript` from `redis` returns (the script with its SHA-1, used for EVALSHA),
 * without loading the package: script definitions are module constants of the backends.
 */
export function defineScript<S extends RedisScriptConfig>(script: S): S & { SHA1: string } {
  return { ...script, SHA1: createHash('sha1').update(script.SCRIPT).digest('hex') };
}
