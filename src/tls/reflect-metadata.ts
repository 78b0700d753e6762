/**
 * The part of the Reflect metadata API that @peculiar/x509's dependency-injection container
 * (tsyringe) calls when it loads: defineMetadata, getOwnMetadata and getMetadata (which
 * follows the prototype chain). The library asks its users to load a polyfill first; this is
 * that polyfill, limited to what is used, so no extra package is needed. It must be imported
 * before '@peculiar/x509'. It installs nothing when a full polyfill is already present.
 */
type Key = string | symbol;
type Store = Map<string | symbol | undefined, Map<unknown, unknown>>;

const stores = new WeakMap<object, Store>();

function ownMap(target: object, property: Key | undefined, create: boolean): Map<unknown, unknown> | undefined {
  let store = stores.get(target);
  if (store === undefined) {
    if (!create) return undefined;
    store = new Map();
    stores.set(target, store);
  }
  let map = store.get(property);
  if (map === undefined && create) {
    map = new Map();
    store.set(property, map);
  }
  return map;
}

const api = {
  defineMetadata(key: unknown, value: unknown, target: object, property?: Key): void {
    ownMap(target, property, true)?.set(key, value);
  },
  getOwnMetadata(key: unknown, target: object, property?: Key): unknown {
    return ownMap(target, property, false)?.get(key);
  },
  getMetadata(key: unknown, target: object, property?: Key): unknown {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const map = ownMap(t, property, false);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  },
};

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== 'function') {
  for (const [name, fn] of Object.entries(api)) {
    Object.defineProperty(Reflect, name, { value: fn, writable: true, configurable: true, enumerable: false });
  }
}
