/** Opens the configured store, migrated and ready to serve. The one place that picks a backend. */
import type { Logger } from '../observability/logger.ts';
import type { StoreConfig } from './config-types.ts';
import { createPostgresStore } from './postgres/postgres-store.ts';
import { createSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

/** `log` (the gateway's) gets `store.unreachable` / `store.reachable` when PostgreSQL stops and starts answering. */
export async function openStore(cfg: StoreConfig, log?: Logger): Promise<Store> {
  const store =
    cfg.driver === 'postgres'
      ? createPostgresStore({
          url: cfg.url,
          poolSize: cfg.poolSize,
          ...(cfg.schema === undefined ? {} : { schema: cfg.schema }),
          ...(log === undefined
            ? {}
            : {
                onReachability: (reachable: boolean, reason?: string) => {
                  if (reachable) log.info({ event: 'store.reachable' }, 'PostgreSQL answers again');
                  else
                    log.warn(
                      { event: 'store.unreachable', reason },
                      'PostgreSQL is not answering; requests that need it fail at once with 503 store.unavailable until it answers again',
                    );
                },
              }),
        })
      : createSqliteStore({ path: cfg.path });
  try {
    await store.init();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
