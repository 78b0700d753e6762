/**
 * The declared shape of the config file: every key a reader accepts, with its type, range,
 * default and meaning. One declaration serves three readers of it: the config readers take
 * their lists of known keys from it (`keysOf`), `render-reference.ts` turns it into the
 * reference in docs/configuration.md and the JSON Schema docs/config.schema.json, and
 * keys.test.ts proves the readers and the declaration agree.
 *
 * A reader module declares its top-level section with `configSection(name, spec)`, which
 * records it in the registry below; nested parts owned by other modules (`server.tls`,
 * `auth.lockout`, …) are declared there and embedded by reference. The top-level key list
 * of the file, and the generator, read the registry, so a reader moved to another folder is
 * still found as long as load.ts imports it.
 */

/** What the reference table shows; `default`/`allowed` are Markdown, derived when absent. */
interface KeyText {
  /** What the key does (Markdown). Leaves must have one. */
  readonly doc?: string;
  /** Shown in the "default" column; otherwise derived from `value` (or "—"). */
  readonly default?: string;
  /** Shown in the "allowed" column; otherwise derived from the type. */
  readonly allowed?: string;
}

export type KeySpec =
  | (KeyText & {
      readonly kind: 'integer' | 'number';
      readonly min?: number;
      readonly max?: number;
      readonly value?: number;
    })
  | (KeyText & { readonly kind: 'boolean'; readonly value?: boolean })
  | (KeyText & { readonly kind: 'string'; readonly pattern?: string; readonly value?: string })
  | (KeyText & { readonly kind: 'enum'; readonly values: readonly string[]; readonly value?: string })
  /** Exactly one `${ENV}` or `${file:…}` reference, never a literal. */
  | (KeyText & { readonly kind: 'secret' })
  /** Whole seconds (`90`) or a number with one unit (`30s`, `15m`, `2h`, `7d`). */
  | (KeyText & { readonly kind: 'duration'; readonly value?: string })
  | (KeyText & { readonly kind: 'list'; readonly items: KeySpec; readonly maxItems?: number })
  /** A map of fixed keys; any other key is refused. */
  | SectionSpec<string>
  /** A map whose keys are names the user picks (`providers.<id>`); `name` is the placeholder. */
  | (KeyText & { readonly kind: 'map'; readonly name: string; readonly values: KeySpec; readonly keyPattern?: string })
  /** One of several shapes (`admin.listen`: `none` or `{host, port}`). */
  | (KeyText & { readonly kind: 'oneOf'; readonly options: readonly KeySpec[] });

export interface SectionSpec<K extends string> extends KeyText {
  readonly kind: 'section';
  readonly keys: { readonly [P in K]: KeySpec };
}

/** A map of fixed keys (unknown keys are refused by the reader). */
export function section<K extends string>(keys: { readonly [P in K]: KeySpec }, text: KeyText = {}): SectionSpec<K> {
  return Object.freeze({ ...text, kind: 'section', keys: Object.freeze(keys) });
}

/** The known keys of a section, in declaration order: what a reader passes to `entries`. */
export function keysOf<K extends string>(spec: SectionSpec<K>): readonly K[] {
  return Object.keys(spec.keys) as K[];
}

const registry = new Map<string, KeySpec>();

/** Declares a top-level section of the config file; its reader takes its keys from `spec`. */
export function configSection<S extends KeySpec>(name: string, spec: S): S {
  const known = registry.get(name);
  if (known !== undefined && known !== spec) throw new Error(`config section '${name}' is declared twice`);
  registry.set(name, spec);
  return spec;
}

/** Every declared top-level section, sorted by name. */
export function configSections(): ReadonlyArray<readonly [string, KeySpec]> {
  return [...registry.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** The whole file as one section (what the generator and the JSON Schema start from). */
export function configFileSpec(): SectionSpec<string> {
  return section(Object.fromEntries(configSections()));
}

// Shorthands for the common shapes; each takes the reader's own numbers.
type Text = KeyText;
export const int = (
  min: number,
  max: number,
  value: number | undefined,
  doc: string,
  text: Omit<Text, 'doc'> = {},
): KeySpec => ({ kind: 'integer', min, max, ...(value === undefined ? {} : { value }), doc, ...text });
export const num = (
  min: number,
  max: number,
  value: number | undefined,
  doc: string,
  text: Omit<Text, 'doc'> = {},
): KeySpec => ({ kind: 'number', min, max, ...(value === undefined ? {} : { value }), doc, ...text });
export const bool = (value: boolean | undefined, doc: string, text: Omit<Text, 'doc'> = {}): KeySpec => ({
  kind: 'boolean',
  ...(value === undefined ? {} : { value }),
  doc,
  ...text,
});
export const str = (doc: string, text: Omit<Text, 'doc'> & { value?: string; pattern?: string } = {}): KeySpec => ({
  kind: 'string',
  doc,
  ...text,
});
export const oneOf = (
  values: readonly string[],
  value: string | undefined,
  doc: string,
  text: Omit<Text, 'doc'> = {},
): KeySpec => ({ kind: 'enum', values, ...(value === undefined ? {} : { value }), doc, ...text });
export const secret = (doc: string, text: Omit<Text, 'doc'> = {}): KeySpec => ({ kind: 'secret', doc, ...text });
export const duration = (value: string | undefined, doc: string, text: Omit<Text, 'doc'> = {}): KeySpec => ({
  kind: 'duration',
  ...(value === undefined ? {} : { value }),
  doc,
  ...text,
});
export const list = (items: KeySpec, text: Text & { maxItems?: number } = {}): KeySpec => ({
  kind: 'list',
  items,
  ...text,
});
export const mapOf = (name: string, values: KeySpec, text: Text & { keyPattern?: string } = {}): KeySpec => ({
  kind: 'map',
  name,
  values,
  ...text,
});
export const anyOf = (options: readonly KeySpec[], text: Text = {}): KeySpec => ({ kind: 'oneOf', options, ...text });
