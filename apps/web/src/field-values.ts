import { formatNumber, lengthPhrase, rangePhrase, type FieldSpec, type FormSpec } from './schema-fields.js';

/**
 * What the page read from one field: the text of an input, select or textarea (a select's value is
 * the index of the chosen option, '' for none), or a checkbox's state. `badInput` is the browser's
 * `validity.badInput` of a number input, whose value is '' when the text is not a number.
 */
export type RawValue = { readonly text: string; readonly badInput?: boolean } | { readonly checked: boolean };

/** A field's value, or that it is left out of the data, or why it is refused. */
export type FieldResult = { ok: true; absent: true } | { ok: true; absent?: false; value: unknown } | { ok: false; message: string };

const ABSENT: FieldResult = { ok: true, absent: true };
const value = (v: unknown): FieldResult => ({ ok: true, value: v });
const refuse = (message: string): FieldResult => ({ ok: false, message });

function isEmpty(raw: RawValue): boolean {
  return 'text' in raw && raw.text.trim() === '' && !raw.badInput;
}

/** A schema `pattern` as a RegExp (ECMA-262 as JSON Schema says); undefined when this browser cannot compile it (the hub still checks). */
function compile(pattern: string): RegExp | undefined {
  for (const flags of ['u', '']) {
    try {
      return new RegExp(pattern, flags);
    } catch {
      // try without the flag, then give up
    }
  }
  return undefined;
}

function readNumber(f: FieldSpec, text: string, badInput: boolean | undefined): FieldResult {
  const whole = f.kind === 'integer';
  const range = rangePhrase(f);
  const what = whole ? `a whole number${range ? ` ${range}` : ''}` : `a number${range ? ` ${range}` : ''}`;
  const t = text.trim();
  const n = Number(t);
  if (badInput || t === '' || !Number.isFinite(n)) return refuse(`${f.label} must be ${what}.`);
  if (whole && !Number.isInteger(n)) return refuse(`${f.label} must be ${what}; got ${t}.`);
  const below = (f.minimum !== undefined && n < f.minimum) || (f.exclusiveMinimum !== undefined && n <= f.exclusiveMinimum);
  const above = (f.maximum !== undefined && n > f.maximum) || (f.exclusiveMaximum !== undefined && n >= f.exclusiveMaximum);
  if (below || above) return refuse(`${f.label} must be ${range}; got ${formatNumber(n)}.`);
  if (f.multipleOf !== undefined) {
    const q = n / f.multipleOf;
    // Relative tolerance: 0.3 / 0.1 is 2.9999999999999996 in binary floating point.
    if (Math.abs(q - Math.round(q)) > 1e-9 * Math.max(1, Math.abs(q))) return refuse(`${f.label} must be a multiple of ${formatNumber(f.multipleOf)}; got ${formatNumber(n)}.`);
  }
  return value(n);
}

function readString(f: FieldSpec, text: string): FieldResult {
  const length = [...text].length; // code points, as JSON Schema counts (zod counts UTF-16 units; the hub has the last word)
  if ((f.minLength !== undefined && length < f.minLength) || (f.maxLength !== undefined && length > f.maxLength)) {
    return refuse(`${f.label} must be ${lengthPhrase(f)}; got ${formatNumber(length)}.`);
  }
  if (f.pattern) {
    const re = compile(f.pattern);
    if (re && !re.test(text)) return refuse(`${f.label} must match the pattern ${f.pattern}.`);
  }
  return value(text);
}

function readJson(f: FieldSpec, text: string): FieldResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return refuse(`${f.label} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (parsed === null && f.nullable) return value(null);
  if (f.jsonType === 'object') {
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return refuse(`${f.label} must be a JSON object ({ … }).`);
    const missing = (f.requiredKeys ?? []).filter((k) => !(k in parsed));
    if (missing.length) return refuse(`${f.label} needs ${missing.map((k) => `"${k}"`).join(', ')}.`);
  }
  if (f.jsonType === 'array') {
    if (!Array.isArray(parsed)) return refuse(`${f.label} must be a JSON array ([ … ]).`);
    if (f.minItems !== undefined && parsed.length < f.minItems) return refuse(`${f.label} must have at least ${formatNumber(f.minItems)} items; got ${parsed.length}.`);
    if (f.maxItems !== undefined && parsed.length > f.maxItems) return refuse(`${f.label} must have at most ${formatNumber(f.maxItems)} items; got ${parsed.length}.`);
  }
  return value(parsed);
}

/**
 * Reads one field. An empty input is left out of the data when the field is optional or has a
 * default (the hub fills the default in), is null when the field is required and nullable, and is
 * refused when it is required. An unchecked checkbox is false unless the field is optional without
 * a default (then it is left out, so "not set" stays expressible).
 */
export function readField(f: FieldSpec, raw: RawValue): FieldResult {
  if ('checked' in raw) return raw.checked ? value(true) : f.required || f.hasDefault ? value(false) : ABSENT;
  if (isEmpty(raw)) {
    if (!f.required) return ABSENT;
    if (f.nullable) return value(null);
    // A required plain string may be empty when the schema lets it.
    if (f.kind === 'string' && !f.minLength && !f.pattern) return value('');
    return refuse(`${f.label} is required.`);
  }
  switch (f.kind) {
    case 'integer':
    case 'number':
      return readNumber(f, raw.text, raw.badInput);
    case 'string':
      return readString(f, raw.text);
    case 'choice': {
      const i = Number(raw.text);
      const choices = f.choices ?? [];
      if (!Number.isInteger(i) || i < 0 || i >= choices.length) return refuse(`${f.label} must be one of ${choices.map(String).join(', ')}.`);
      return value(choices[i]);
    }
    case 'json':
      return readJson(f, raw.text);
    case 'boolean':
      return refuse(`${f.label} must be checked or not.`);
  }
}

export type FormResult = { ok: true; data: unknown } | { ok: false; errors: Readonly<Record<string, string>> };

/** Reads every field of a form: the job's data, or one message per refused field (keyed by field key). */
export function readForm(spec: FormSpec, raws: (key: string) => RawValue): FormResult {
  const errors: Record<string, string> = {};
  const data: Record<string, unknown> = {};
  let whole: unknown;
  for (const f of spec.fields) {
    const r = readField(f, raws(f.key));
    if (!r.ok) errors[f.key] = r.message;
    else if (!r.absent) {
      if (spec.whole) whole = r.value;
      else data[f.key] = r.value;
    }
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, data: spec.whole ? whole : data };
}

/**
 * The fields a hub refusal names. SB_JOB_INVALID_DATA reads "Invalid data for job 'x': a.b: message;
 * c: message." (libs/jobs job-set.ts): each issue is keyed by its first path segment ('' for the
 * data as a whole) when that is one of `keys`; the text of the issue is kept verbatim.
 */
export function fieldsNamed(message: string, keys: readonly string[]): Record<string, string> {
  const m = /^SB_JOB_INVALID_DATA: Invalid data for job '[^']*': ([\s\S]*?)\.?$/.exec(message);
  if (!m) return {};
  const known = new Set(keys);
  const out: Record<string, string> = {};
  for (const issue of m[1]!.split('; ')) {
    const colon = issue.indexOf(': ');
    if (colon < 0) continue;
    const path = issue.slice(0, colon);
    const key = path === 'data' ? '' : path.split('.')[0]!;
    if (known.has(key)) out[key] = out[key] ? `${out[key]}; ${issue}` : issue;
  }
  return out;
}
