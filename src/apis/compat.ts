/**
 * Breaking-change detection between two versions' input schemas. A change is breaking when
 * some input the old schema accepted could be refused by the new one: a new required
 * property, a property removed under `additionalProperties: false`, a type narrowed, an enum
 * or a bound tightened, a pattern added or changed. Such a change needs a new major version.
 * The check is conservative: when in doubt (a pattern changed) it calls the change breaking.
 */
import { type JsonSchema, joinPath } from './json-schema.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function types(s: JsonSchema): Set<string> | undefined {
  const t = s.type;
  if (t === undefined) return undefined;
  const list = (Array.isArray(t) ? t : [t]) as string[];
  const set = new Set(list);
  if (set.has('number')) set.add('integer');
  return set;
}

/** Reasons the new schema may refuse input the old one accepted (empty: compatible). */
export function breakingChanges(oldSchema: JsonSchema, newSchema: JsonSchema, path = 'input_schema'): string[] {
  const out: string[] = [];
  const at = path;
  const oldT = types(oldSchema);
  const newT = types(newSchema);
  if (newT !== undefined && (oldT === undefined || [...oldT].some((t) => !newT.has(t))))
    out.push(`${at}: the accepted types were narrowed`);
  const oldEnum = Array.isArray(oldSchema.enum) ? oldSchema.enum : undefined;
  const newEnum = Array.isArray(newSchema.enum) ? newSchema.enum : undefined;
  if (newEnum !== undefined) {
    const keep = new Set(newEnum.map((e) => JSON.stringify(e)));
    if (oldEnum === undefined || oldEnum.some((e) => !keep.has(JSON.stringify(e))))
      out.push(`${at}: enum values were removed`);
  }
  if (newSchema.const !== undefined && JSON.stringify(newSchema.const) !== JSON.stringify(oldSchema.const))
    out.push(`${at}: a const was added or changed`);
  const tighterMin = (k: string) => {
    const n = newSchema[k];
    const o = oldSchema[k];
    if (typeof n === 'number' && (typeof o !== 'number' || n > o)) out.push(`${at}: ${k} was raised`);
  };
  const tighterMax = (k: string) => {
    const n = newSchema[k];
    const o = oldSchema[k];
    if (typeof n === 'number' && (typeof o !== 'number' || n < o)) out.push(`${at}: ${k} was lowered`);
  };
  for (const k of ['minLength', 'minItems', 'minimum', 'exclusiveMinimum']) tighterMin(k);
  for (const k of ['maxLength', 'maxItems', 'maximum', 'exclusiveMaximum']) tighterMax(k);
  if (newSchema.pattern !== undefined && newSchema.pattern !== oldSchema.pattern)
    out.push(`${at}: a pattern was added or changed`);

  const oldProps = isObject(oldSchema.properties) ? oldSchema.properties : {};
  const newProps = isObject(newSchema.properties) ? newSchema.properties : {};
  const oldReq = new Set(Array.isArray(oldSchema.required) ? (oldSchema.required as string[]) : []);
  for (const r of Array.isArray(newSchema.required) ? (newSchema.required as string[]) : [])
    if (!oldReq.has(r)) out.push(`${joinPath(at, r)}: became required`);
  const closedNow = newSchema.additionalProperties === false;
  if (closedNow && oldSchema.additionalProperties !== false) out.push(`${at}: additional properties are now refused`);
  for (const [k, o] of Object.entries(oldProps)) {
    const n = Object.hasOwn(newProps, k) ? newProps[k] : undefined;
    if (isObject(n) && isObject(o)) out.push(...breakingChanges(o, n, joinPath(at, k)));
    else if (n === undefined && closedNow) out.push(`${joinPath(at, k)}: was removed`);
  }
  if (isObject(oldSchema.items) && isObject(newSchema.items))
    out.push(...breakingChanges(oldSchema.items, newSchema.items, `${at}[]`));
  else if (isObject(newSchema.items) && !isObject(oldSchema.items)) out.push(`${at}: items gained a schema`);
  return out;
}
