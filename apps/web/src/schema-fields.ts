/**
 * Turns a job's data schema (JSON Schema as zod 4's `z.toJSONSchema(schema, { io: 'input' })`
 * writes it, from `jobTypes()`) into form fields. DOM-free, so it is unit-tested as is. The page
 * covers what a form does well (numbers, strings, enums, booleans, optional fields, defaults) and
 * hands everything else (nested objects, arrays, unions, records) to a JSON editor: the hub
 * validates the data again with the job's own zod schema, and its message is shown verbatim.
 */

export type JsonSchema = Readonly<Record<string, unknown>>;

/** How a field is edited: a number input, a text input, a select, a checkbox or a JSON textarea. */
export type FieldKind = 'integer' | 'number' | 'string' | 'choice' | 'boolean' | 'json';

export interface FieldSpec {
  /** The property name; '' for a form whose whole data is one JSON value. */
  readonly key: string;
  readonly label: string;
  readonly kind: FieldKind;
  /** In the schema's `required`: an empty input is refused (or null, when `nullable`). */
  readonly required: boolean;
  /** The schema allows null: a required nullable field left empty sends null. */
  readonly nullable: boolean;
  /** `.describe()` text. */
  readonly description?: string;
  /** Present when the schema has a default (with `io: 'input'` such a field is never required). */
  readonly default?: unknown;
  readonly hasDefault: boolean;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly multipleOf?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: string;
  /** The values of a `choice` field, in schema order. */
  readonly choices?: readonly unknown[];
  /** What a `json` field must parse to, when the schema says. */
  readonly jsonType?: 'object' | 'array';
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly requiredKeys?: readonly string[];
  /** A JSON example built from the schema (the placeholder of a JSON field). */
  readonly example?: string;
}

export interface FormSpec {
  readonly fields: readonly FieldSpec[];
  /** True when the data is not an object of properties: one JSON field (key '') is the whole data. */
  readonly whole: boolean;
}

const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
/** zod writes ±MAX_SAFE_INTEGER for `.int()` without bounds: no bound worth showing. */
const bound = (v: unknown): number | undefined => {
  const n = num(v);
  return n === undefined || Math.abs(n) >= Number.MAX_SAFE_INTEGER ? undefined : n;
};

/** "failAtStage" → "Fail at stage", "delayMs" → "Delay (ms)", "max_items" → "Max items". */
export function humanize(key: string): string {
  const ms = /^(.+?)(?:Ms|_ms)$/.exec(key);
  if (ms) return `${humanize(ms[1]!)} (ms)`;
  const words = key
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : key;
}

/** A plain JSON example of a schema's shape (defaults and lower bounds where known). */
export function exampleOf(schema: unknown, depth = 0): unknown {
  if (!obj(schema) || depth > 4) return null;
  if ('default' in schema) return schema['default'];
  if ('const' in schema) return schema['const'];
  if (Array.isArray(schema['enum']) && schema['enum'].length) return schema['enum'][0];
  const variants = schema['anyOf'] ?? schema['oneOf'];
  if (Array.isArray(variants) && variants.length) return exampleOf(variants.find((v) => !(obj(v) && v['type'] === 'null')) ?? variants[0], depth + 1);
  const type = Array.isArray(schema['type']) ? schema['type'].find((t) => t !== 'null') : schema['type'];
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      if (obj(schema['properties'])) for (const [k, v] of Object.entries(schema['properties'])) out[k] = exampleOf(v, depth + 1);
      return out;
    }
    case 'array':
      return obj(schema['items']) ? [exampleOf(schema['items'], depth + 1)] : [];
    case 'string':
      return '';
    case 'integer':
    case 'number':
      return bound(schema['minimum']) ?? bound(schema['exclusiveMinimum']) ?? 0;
    case 'boolean':
      return false;
    default:
      return null;
  }
}

/** `{ type: X }` or `anyOf: [X, { type: 'null' }]` or `type: [t, 'null']` → X and whether null is allowed. */
function unwrapNullable(schema: Record<string, unknown>): { inner: Record<string, unknown>; nullable: boolean } {
  const variants = schema['anyOf'] ?? schema['oneOf'];
  if (Array.isArray(variants) && variants.length === 2) {
    const nonNull = variants.filter((v) => !(obj(v) && v['type'] === 'null'));
    if (nonNull.length === 1 && obj(nonNull[0])) {
      const { anyOf: _a, oneOf: _o, ...outer } = schema;
      return { inner: { ...nonNull[0], ...outer }, nullable: true };
    }
  }
  if (Array.isArray(schema['type'])) {
    const types = schema['type'].filter((t) => t !== 'null');
    if (types.length === 1) return { inner: { ...schema, type: types[0] }, nullable: types.length < schema['type'].length };
  }
  return { inner: schema, nullable: false };
}

const PRIMITIVE = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** The form field for one property. */
export function fieldOf(key: string, raw: unknown, required: boolean): FieldSpec {
  const schema = obj(raw) ? raw : {};
  const { inner, nullable } = unwrapNullable(schema);
  const hasDefault = 'default' in inner;
  const base = {
    key,
    label: str(inner['title']) ?? (key ? humanize(key) : 'Data'),
    required,
    nullable,
    hasDefault,
    ...(str(inner['description']) ? { description: str(inner['description']) } : {}),
    ...(hasDefault ? { default: inner['default'] } : {}),
  };
  const choices = Array.isArray(inner['enum']) ? inner['enum'] : 'const' in inner ? [inner['const']] : undefined;
  if (choices && choices.length && choices.every(PRIMITIVE)) return { ...base, kind: 'choice', choices };
  const type = inner['type'];
  if (type === 'integer' || type === 'number') {
    const multipleOf = num(inner['multipleOf']);
    return {
      ...base,
      kind: type,
      minimum: bound(inner['minimum']),
      maximum: bound(inner['maximum']),
      exclusiveMinimum: bound(inner['exclusiveMinimum']),
      exclusiveMaximum: bound(inner['exclusiveMaximum']),
      ...(multipleOf !== undefined && multipleOf > 0 ? { multipleOf } : {}),
    };
  }
  if (type === 'string') {
    return {
      ...base,
      kind: 'string',
      minLength: num(inner['minLength']),
      maxLength: num(inner['maxLength']),
      ...(str(inner['pattern']) ? { pattern: str(inner['pattern']) } : {}),
      ...(str(inner['format']) ? { format: str(inner['format']) } : {}),
    };
  }
  if (type === 'boolean') return { ...base, kind: 'boolean' };
  // Everything else is edited as JSON: nested objects, arrays, records, unions, `z.any()`.
  const jsonType = type === 'object' ? 'object' : type === 'array' ? 'array' : undefined;
  return {
    ...base,
    kind: 'json',
    ...(jsonType ? { jsonType } : {}),
    minItems: num(inner['minItems']),
    maxItems: num(inner['maxItems']),
    ...(jsonType === 'object' && Array.isArray(inner['required']) ? { requiredKeys: inner['required'].filter((k): k is string => typeof k === 'string') } : {}),
    example: JSON.stringify(exampleOf(inner)),
  };
}

/** The fields of a job's data schema: one per property of an object schema, else one JSON field. */
export function describeSchema(schema: JsonSchema): FormSpec {
  const props = schema['properties'];
  // A record (`additionalProperties` as a schema) or a union at the top has no fixed fields.
  if (schema['type'] === 'object' && obj(props) && !obj(schema['additionalProperties'])) {
    const required = new Set(Array.isArray(schema['required']) ? schema['required'] : []);
    return { whole: false, fields: Object.entries(props).map(([k, v]) => fieldOf(k, v, required.has(k))) };
  }
  return { whole: true, fields: [fieldOf('', schema, true)] };
}

/** en-US digits with separators: 50,000,000; 0.5. */
export function formatNumber(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 20 });
}

/** "from 1 to 50,000,000", "at least 0", "greater than 0 and less than 5"; undefined without bounds. */
export function rangePhrase(f: FieldSpec): string | undefined {
  const lo = f.exclusiveMinimum !== undefined ? `greater than ${formatNumber(f.exclusiveMinimum)}` : f.minimum !== undefined ? `at least ${formatNumber(f.minimum)}` : undefined;
  const hi = f.exclusiveMaximum !== undefined ? `less than ${formatNumber(f.exclusiveMaximum)}` : f.maximum !== undefined ? `at most ${formatNumber(f.maximum)}` : undefined;
  if (f.minimum !== undefined && f.maximum !== undefined && f.exclusiveMinimum === undefined && f.exclusiveMaximum === undefined) {
    return `from ${formatNumber(f.minimum)} to ${formatNumber(f.maximum)}`;
  }
  return lo && hi ? `${lo} and ${hi}` : (lo ?? hi);
}

/** "3 to 10 characters", "exactly 3 characters", "at most 100 characters"; undefined without limits. */
export function lengthPhrase(f: FieldSpec): string | undefined {
  const { minLength: lo, maxLength: hi } = f;
  const chars = (n: number) => `${formatNumber(n)} character${n === 1 ? '' : 's'}`;
  if (lo !== undefined && hi !== undefined) return lo === hi ? `exactly ${chars(lo)}` : `${formatNumber(lo)} to ${chars(hi)}`;
  if (lo !== undefined && lo > 0) return `at least ${chars(lo)}`;
  if (hi !== undefined) return `at most ${chars(hi)}`;
  return undefined;
}

/** The hint under a field: what it takes, whether it may stay empty, its default. */
export function fieldHint(f: FieldSpec): string {
  const parts: string[] = [];
  const range = rangePhrase(f);
  switch (f.kind) {
    case 'integer':
      parts.push(`A whole number${range ? ` ${range}` : ''}.`);
      break;
    case 'number':
      parts.push(`A number${range ? ` ${range}` : ''}${f.multipleOf !== undefined ? `, in steps of ${formatNumber(f.multipleOf)}` : ''}.`);
      break;
    case 'string': {
      const length = lengthPhrase(f);
      const what = [length, f.pattern ? `matching ${f.pattern}` : undefined, f.format ? `format ${f.format}` : undefined].filter(Boolean);
      if (what.length) parts.push(`Text, ${what.join(', ')}.`);
      break;
    }
    case 'json':
      parts.push(`JSON${f.jsonType === 'object' ? ' object' : f.jsonType === 'array' ? ' array' : ''}${f.maxItems !== undefined ? ` of at most ${formatNumber(f.maxItems)} items` : ''}.`);
      break;
    default:
      break;
  }
  if (f.hasDefault) parts.push(`Default: ${typeof f.default === 'string' ? f.default : JSON.stringify(f.default)}.`);
  else if (!f.required && f.kind !== 'boolean' && f.kind !== 'choice') parts.push('Optional: leave empty to omit.');
  return parts.join(' ');
}
