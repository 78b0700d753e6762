/**
 * Renders the configuration reference (the table in docs/configuration.md between the
 * `config-reference` markers) and the JSON Schema docs/config.schema.json from the declared
 * keys (keys.ts). Run `node src/config/render-reference.ts` after changing a `*.keys.ts` file;
 * keys.test.ts fails while the files and the declaration disagree.
 *
 * The sections are found through the registry: importing load.ts imports every reader, and
 * every reader declares its section.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configFileSpec, configSections, type KeySpec } from './keys.ts';
import './load.ts';

export const CONFIG_DOC_PATH = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));
export const CONFIG_SCHEMA_PATH = fileURLToPath(new URL('../../docs/config.schema.json', import.meta.url));
const START = '<!-- config-reference:start -->';
const END = '<!-- config-reference:end -->';

export interface ReferenceRow {
  /** Display path: `server.tls.cert_file`, `providers.<id>.kind`, `models.<name>.targets[].weight`. */
  readonly path: string;
  readonly spec: KeySpec;
}

/** Every documented node in file order: leaves always, containers when they carry a doc. */
export function referenceRows(): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  for (const [name, spec] of configSections()) walk(name, spec, rows);
  return rows;
}

function walk(path: string, spec: KeySpec, rows: ReferenceRow[]): void {
  switch (spec.kind) {
    case 'section':
      if (spec.doc !== undefined) rows.push({ path, spec });
      for (const [key, child] of Object.entries(spec.keys)) walk(`${path}.${key}`, child, rows);
      return;
    case 'map':
      if (spec.doc !== undefined) rows.push({ path, spec });
      walk(`${path}.<${spec.name}>`, spec.values, rows);
      return;
    case 'list':
      rows.push({ path: spec.items.kind === 'section' ? `${path}[]` : path, spec });
      if (spec.items.kind === 'section')
        for (const [key, child] of Object.entries(spec.items.keys)) walk(`${path}[].${key}`, child, rows);
      return;
    case 'oneOf':
      rows.push({ path, spec });
      for (const option of spec.options) {
        if (option.kind === 'section')
          for (const [key, child] of Object.entries(option.keys)) walk(`${path}.${key}`, child, rows);
      }
      return;
    default:
      rows.push({ path, spec });
  }
}

export function defaultText(spec: KeySpec): string {
  if (spec.default !== undefined) return spec.default;
  if ('value' in spec && spec.value !== undefined) return `\`${String(spec.value)}\``;
  return '—';
}

export function allowedText(spec: KeySpec): string {
  if (spec.allowed !== undefined) return spec.allowed;
  switch (spec.kind) {
    case 'integer':
    case 'number':
      return spec.min !== undefined && spec.max !== undefined ? `${spec.min}–${spec.max}` : spec.kind;
    case 'boolean':
      return 'bool';
    case 'enum':
      return spec.values.map((v) => `\`${v}\``).join(' ');
    case 'secret':
      return '`${…}` reference';
    case 'duration':
      return 'duration (`90`, `30s`, `15m`, `2h`, `7d`)';
    case 'list':
      return spec.maxItems === undefined ? 'list' : `list, ≤ ${spec.maxItems}`;
    case 'section':
    case 'map':
      return 'map';
    case 'oneOf':
      return spec.options.map(allowedText).join(' or ');
    default:
      return 'string';
  }
}

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function renderReferenceTable(): string {
  const lines = [
    START,
    "<!-- Generated from the config readers' declared keys (src/config/*.keys.ts) by `node src/config/render-reference.ts`. Do not edit by hand. -->",
    '',
    '| key | default | allowed | meaning |',
    '| --- | --- | --- | --- |',
  ];
  for (const { path, spec } of referenceRows()) {
    lines.push(`| \`${path}\` | ${cell(defaultText(spec))} | ${cell(allowedText(spec))} | ${cell(spec.doc ?? '')} |`);
  }
  lines.push(END);
  return lines.join('\n');
}

/** The page with its generated block replaced. */
export function renderConfigDoc(page: string): string {
  const start = page.indexOf(START);
  const end = page.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${CONFIG_DOC_PATH} lacks the ${START} … ${END} markers`);
  return page.slice(0, start) + renderReferenceTable() + page.slice(end + END.length);
}

/** Markdown to plain text for editor tooltips: links keep their text, code keeps its backticks. */
function plain(text: string): string {
  return text.replace(/\[([^\]]+)\]\([^)]+\)/g, '$1').replace(/\*\*([^*]+)\*\*/g, '$1');
}

function describe(spec: KeySpec): string | undefined {
  const parts: string[] = [];
  if (spec.doc !== undefined) parts.push(plain(spec.doc));
  if (spec.allowed !== undefined) parts.push(`Allowed: ${plain(spec.allowed)}.`);
  if (spec.default !== undefined) parts.push(`Default: ${plain(spec.default)}.`);
  return parts.length === 0 ? undefined : parts.join(' ');
}

type Schema = Record<string, unknown>;

export function schemaOf(spec: KeySpec): Schema {
  const description = describe(spec);
  const out: Schema = description === undefined ? {} : { description };
  switch (spec.kind) {
    case 'integer':
    case 'number':
      Object.assign(
        out,
        { type: spec.kind },
        spec.min === undefined ? {} : { minimum: spec.min },
        spec.max === undefined ? {} : { maximum: spec.max },
      );
      break;
    case 'boolean':
      out.type = 'boolean';
      break;
    case 'string':
      Object.assign(out, { type: 'string' }, spec.pattern === undefined ? {} : { pattern: spec.pattern });
      break;
    case 'enum':
      Object.assign(out, { type: 'string', enum: [...spec.values] });
      break;
    case 'secret':
      Object.assign(out, { type: 'string', pattern: '^\\$\\{[^}]+\\}$' });
      break;
    case 'duration':
      out.anyOf = [
        { type: 'integer', minimum: 0 },
        { type: 'string', pattern: '^[0-9]{1,9}[smhd]?$' },
      ];
      break;
    case 'list':
      Object.assign(
        out,
        { type: 'array', items: schemaOf(spec.items) },
        spec.maxItems === undefined ? {} : { maxItems: spec.maxItems },
      );
      break;
    case 'section':
      Object.assign(out, {
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(Object.entries(spec.keys).map(([k, v]) => [k, schemaOf(v)])),
      });
      break;
    case 'map':
      Object.assign(
        out,
        { type: 'object', additionalProperties: schemaOf(spec.values) },
        spec.keyPattern === undefined ? {} : { propertyNames: { pattern: spec.keyPattern } },
      );
      break;
    case 'oneOf':
      out.anyOf = spec.options.map(schemaOf);
      break;
  }
  if ('value' in spec && spec.value !== undefined) out.default = spec.value;
  return out;
}

export function renderJsonSchema(): string {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Portcullis gateway configuration',
    description:
      'The YAML config file of the Portcullis gateway (docs/configuration.md). Generated by `node src/config/render-reference.ts`; do not edit by hand.',
    ...schemaOf(configFileSpec()),
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CONFIG_DOC_PATH, renderConfigDoc(readFileSync(CONFIG_DOC_PATH, 'utf8')));
  writeFileSync(CONFIG_SCHEMA_PATH, renderJsonSchema());
  console.log(`wrote ${CONFIG_DOC_PATH} and ${CONFIG_SCHEMA_PATH}`);
}
