/**
 * In-memory DataKeyRepository for tests and embedding. `snapshot()` deep-copies the state,
 * which is what a database backup is to this layer; `createMemoryDataKeyRepository(snapshot)`
 * restores one.
 */
import type { DataKeyRepository, DataKeyTombstone, StoredDataKey } from './data-key-repository.ts';

export interface DataKeySnapshot {
  readonly keys: readonly StoredDataKey[];
  readonly tombstones: readonly DataKeyTombstone[];
}

export interface MemoryDataKeyRepository extends DataKeyRepository {
  snapshot(): DataKeySnapshot;
}

export function createMemoryDataKeyRepository(from?: DataKeySnapshot): MemoryDataKeyRepository {
  const keys = new Map<string, StoredDataKey>();
  const tombstones = new Map<string, DataKeyTombstone>();
  for (const k of from?.keys ?? []) keys.set(k.id, copy(k));
  for (const t of from?.tombstones ?? []) tombstones.set(t.id, { ...t, shreddedAt: new Date(t.shreddedAt) });

  return {
    async getCurrent(tenantId) {
      let best: StoredDataKey | undefined;
      for (const k of keys.values()) {
        if (k.tenantId === tenantId && (best === undefined || k.version > best.version)) best = k;
      }
      return best === undefined ? undefined : copy(best);
    },
    async getById(id) {
      const k = keys.get(id);
      return k === undefined ? undefined : copy(k);
    },
    async insert(key) {
      if (keys.has(key.id) || tombstones.has(key.id)) return false;
      for (const k of keys.values()) if (k.tenantId === key.tenantId && k.version === key.version) return false;
      keys.set(key.id, copy(key));
      return true;
    },
    async replaceWrapping(id, expectedKekId, kekId, wrapped) {
      const k = keys.get(id);
      if (k === undefined || k.kekId !== expectedKekId) return false;
      keys.set(id, { ...k, kekId, wrapped: Buffer.from(wrapped) });
      return true;
    },
    async listByKekId(kekId, page) {
      return [...keys.values()]
        .filter((k) => k.kekId === kekId && (page.afterId === undefined || k.id > page.afterId))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .slice(0, page.limit)
        .map(copy);
    },
    async kekIdsInUse() {
      return [...new Set([...keys.values()].map((k) => k.kekId))].sort();
    },
    async reserveEncryptions(id, count) {
      const k = keys.get(id);
      if (k === undefined) return undefined;
      const total = k.encryptions + count;
      keys.set(id, { ...k, encryptions: total });
      return total;
    },
    async deleteAllForTenant(tenantId, at) {
      let n = 0;
      for (const k of [...keys.values()]) {
        if (k.tenantId !== tenantId) continue;
        keys.delete(k.id);
        k.wrapped.fill(0);
        tombstones.set(k.id, { id: k.id, tenantId, shreddedAt: new Date(at) });
        n++;
      }
      return n;
    },
    async getTombstone(id) {
      const t = tombstones.get(id);
      return t === undefined ? undefined : { ...t, shreddedAt: new Date(t.shreddedAt) };
    },
    snapshot() {
      return {
        keys: [...keys.values()].map(copy),
        tombstones: [...tombstones.values()].map((t) => ({ ...t, shreddedAt: new Date(t.shreddedAt) })),
      };
    },
  };
}

function copy(k: StoredDataKey): StoredDataKey {
  return { ...k, wrapped: Buffer.from(k.wrapped), createdAt: new Date(k.createdAt) };
}
