import { describe, expect, it } from 'vitest';
import { KINDS_SCHEMA, PIPELINE_SCHEMA } from './schema-fixtures.test-support.js';
import { describeSchema, exampleOf, fieldHint, humanize, rangePhrase, type FieldSpec } from './schema-fields.js';

const byKey = (fields: readonly FieldSpec[]) => Object.fromEntries(fields.map((f) => [f.key, f]));

describe('describeSchema: one field per property, by kind', () => {
  it('maps every kind zod writes', () => {
    const spec = describeSchema(KINDS_SCHEMA);
    expect(spec.whole).toBe(false);
    const f = byKey(spec.fields);
    expect(Object.fromEntries(spec.fields.map((x) => [x.key, x.kind]))).toEqual({
      count: 'integer',
      ratio: 'number',
      color: 'choice',
      code: 'string',
      flag: 'boolean',
      note: 'string',
      nested: 'json',
      list: 'json',
      un: 'json',
      rec: 'json',
      lit: 'choice',
      nul: 'string',
      big: 'integer',
      opt: 'integer',
    });
    expect(f['count']).toMatchObject({ label: 'Count', required: true, minimum: 1, maximum: 10, description: 'How many' });
    expect(f['ratio']).toMatchObject({ exclusiveMinimum: 0, exclusiveMaximum: 5, multipleOf: 0.5 });
    expect(f['color']).toMatchObject({ required: false, hasDefault: true, default: 'red', choices: ['red', 'green'] });
    expect(f['code']).toMatchObject({ minLength: 3, maxLength: 3, pattern: '^[A-Z]{3}$' });
    expect(f['flag']).toMatchObject({ required: false, hasDefault: false });
    expect(f['nested']).toMatchObject({ jsonType: 'object', requiredKeys: ['a'], example: '{"a":0}' });
    expect(f['list']).toMatchObject({ jsonType: 'array', maxItems: 3, example: '[""]' });
    expect(f['un']!.jsonType).toBeUndefined();
    expect(f['nul']).toMatchObject({ nullable: true, required: true });
    expect(f['opt']).toMatchObject({ nullable: true, required: false, minimum: 0 });
    // ±MAX_SAFE_INTEGER is zod's way of saying "no bound".
    expect(f['big']!.minimum).toBeUndefined();
    expect(f['big']!.maximum).toBeUndefined();
  });

  it('a data schema without fixed properties (a record, a union, a number) is one JSON field', () => {
    for (const schema of [{ type: 'object', additionalProperties: { type: 'number' }, properties: {} }, { anyOf: [{ type: 'object' }, { type: 'string' }] }]) {
      const spec = describeSchema(schema);
      expect(spec.whole).toBe(true);
      expect(spec.fields).toHaveLength(1);
      expect(spec.fields[0]).toMatchObject({ key: '', label: 'Data', required: true, kind: 'json' });
    }
    // A plain number as the data still gets a number input.
    expect(describeSchema({ type: 'number' }).fields[0]!.kind).toBe('number');
  });

  it('labels: the schema title, else the key in words', () => {
    expect(['rounds', 'failAtStage', 'delayMs', 'max_items', 'timeout_ms', 'URL'].map(humanize)).toEqual(['Rounds', 'Fail at stage', 'Delay (ms)', 'Max items', 'Timeout (ms)', 'Url']);
    expect(describeSchema({ type: 'object', properties: { n: { type: 'integer', title: 'Pages' } } }).fields[0]!.label).toBe('Pages');
  });
});

describe('hints', () => {
  it('say the range, steps, length, pattern, default and whether empty is fine', () => {
    const f = byKey(describeSchema(KINDS_SCHEMA).fields);
    expect(fieldHint(f['count']!)).toBe('A whole number from 1 to 10.');
    expect(fieldHint(f['ratio']!)).toBe('A number greater than 0 and less than 5, in steps of 0.5.');
    expect(fieldHint(f['code']!)).toBe('Text, exactly 3 characters, matching ^[A-Z]{3}$.');
    expect(fieldHint(f['color']!)).toBe('Default: red.');
    expect(fieldHint(f['note']!)).toBe('Optional: leave empty to omit.');
    expect(fieldHint(f['list']!)).toBe('JSON array of at most 3 items.');
    expect(fieldHint(f['big']!)).toBe('A whole number.');
    const p = byKey(describeSchema(PIPELINE_SCHEMA).fields);
    expect(fieldHint(p['items']!)).toBe('A whole number from 1 to 1,000,000.');
    expect(fieldHint(p['delayMs']!)).toBe('A whole number from 0 to 60,000. Optional: leave empty to omit.');
    expect(rangePhrase({ ...p['items']!, maximum: undefined })).toBe('at least 1');
  });

  it('examples follow the shape', () => {
    expect(exampleOf({ type: 'object', properties: { a: { type: 'array', items: { type: 'integer', minimum: 2 } }, b: { type: 'boolean', default: true }, c: { enum: ['x', 'y'] } } })).toEqual({ a: [2], b: true, c: 'x' });
  });
});
