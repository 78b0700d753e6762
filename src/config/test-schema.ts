/**
 * For tests: checks a value against the subset of JSON Schema that render-reference.ts emits
 * (type, enum, minimum, maximum, pattern, properties, additionalProperties, propertyNames,
 * items, maxItems, anyOf). Returns one `path: problem` line per violation, none when valid.
 */
type Schema = Record<string, unknown>;

export function schemaViolations(schema: Schema, value: unknown, path = ''): string[] {
  const at = path === '' ? '(root)' : path;
  if (Array.isArray(schema.anyOf)) {
    const options = schema.anyOf as Schema[];
    return options.some((o) => schemaViolations(o, value, path).length === 0)
      ? []
      : [`${at}: matches none of ${options.length} shapes`];
  }
  const out: string[] = [];
  const type = schema.type as string | undefined;
  if (type !== undefined && !hasType(value, type)) return [`${at}: expected ${type}, got ${JSON.stringify(value)}`];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    out.push(`${at}: expected one of ${schema.enum.join(', ')}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) out.push(`${at}: below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) out.push(`${at}: above ${schema.maximum}`);
  }
  if (typeof value === 'string' && typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) {
    out.push(`${at}: does not match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems)
      out.push(`${at}: more than ${schema.maxItems} items`);
    if (schema.items !== undefined) {
      for (const [i, v] of value.entries()) out.push(...schemaViolations(schema.items as Schema, v, `${path}[${i}]`));
    }
  }
  if (type === 'object' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    const names = schema.propertyNames as Schema | undefined;
    for (const [k, v] of Object.entries(value)) {
      const child = path === '' ? k : `${path}.${k}`;
      if (names?.pattern !== undefined && !new RegExp(names.pattern as string, 'u').test(k))
        out.push(`${child}: name does not match ${String(names.pattern)}`);
      if (k in props) out.push(...schemaViolations(props[k] as Schema, v, child));
      else if (schema.additionalProperties === false) out.push(`${child}: unknown key`);
      else if (typeof schema.additionalProperties === 'object')
        out.push(...schemaViolations(schema.additionalProperties as Schema, v, child));
    }
  }
  return out;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    default:
      return false;
  }
}
