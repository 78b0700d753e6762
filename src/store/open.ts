/** Opens the configured store, migrated and ready to serve. The one place that picks a backend. */
import type { StoreConfig } from '../config/types.ts';
import { createPostgresStore } from './postgres/postgres-store.ts';
import { createSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export async function openStore(cfg: StoreConfig): Promise<Store> {
  const store = cfg.driver === 'postgres'
    ? createPostgresStore({ url: cfg.url, poolSize: cfg.poolSize, ...(cfg.schema === undefined ? {} : { schema: cfg.schema }) })
    : createSqliteStore({ path: cfg.path });
  try {
    await store.init();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
