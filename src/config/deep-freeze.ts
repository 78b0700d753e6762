/**
 * Config is read-only after startup. `Object.freeze` does not stop `Map#set`, so frozen maps
 * also get throwing mutators: a stage that tries to change the config fails loudly in tests.
 */

function refuse(): never {
  throw new TypeError('configuration is frozen');
}

export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      deepFreeze(k);
      deepFreeze(v);
    }
    for (const name of ['set', 'delete', 'clear'] as const) {
      Object.defineProperty(value, name, { value: refuse, enumerable: false });
    }
  } else {
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return Object.freeze(value);
}
