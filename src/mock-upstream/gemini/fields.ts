/**
 * Gemini's JSON accepts both lowerCamelCase and snake_case proto field names; the emulator
 * reads both and rejects names the API does not know, as the real one does.
 */
import { isObject, type JsonObject } from '../core/types.ts';

export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

export function field(obj: unknown, camel: string): unknown {
  if (!isObject(obj)) return undefined;
  return obj[camel] ?? obj[snakeCase(camel)];
}

export function objectField(obj: unknown, camel: string): JsonObject | undefined {
  const v = field(obj, camel);
  return isObject(v) ? v : undefined;
}

export function arrayField(obj: unknown, camel: string): unknown[] {
  const v = field(obj, camel);
  return Array.isArray(v) ? v : [];
}

/** The first key of `obj` whose camelCase form is not in `known`. */
export function unknownField(obj: JsonObject, known: ReadonlySet<string>): string | undefined {
  return Object.keys(obj).find((k) => !known.has(camelCase(k)));
}
