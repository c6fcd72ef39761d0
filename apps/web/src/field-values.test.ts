import { describe, expect, it } from 'vitest';
import { fieldsNamed, readField, readForm, type RawValue } from './field-values.js';
import { describeSchema, type FieldSpec } from './schema-fields.js';
import { KINDS_SCHEMA, PIPELINE_SCHEMA } from './schema-fixtures.test-support.js';

const fields = Object.fromEntries(describeSchema(KINDS_SCHEMA).fields.map((f) => [f.key, f])) as Record<string, FieldSpec>;
const text = (t: string, badInput = false): RawValue => ({ text: t, badInput });
const msg = (key: string, raw: RawValue) => {
  const r = readField(fields[key]!, raw);
  return r.ok ? r : r.message;
};

describe('readField', () => {
  it('integers: whole, in range; the message says what is expected and what was given', () => {
    expect(msg('count', text(' 7 '))).toEqual({ ok: true, value: 7 });
    expect(msg('count', text('0'))).toBe('Count must be from 1 to 10; got 0.');
    expect(msg('count', text('11'))).toBe('Count must be from 1 to 10; got 11.');
    expect(msg('count', text('2.5'))).toBe('Count must be a whole number from 1 to 10; got 2.5.');
    expect(msg('count', text('', true))).toBe('Count must be a whole number from 1 to 10.'); // the browser could not read it as a number
    expect(msg('count', text(''))).toBe('Count is required.');
    expect(msg('big', text('-12345678901'))).toEqual({ ok: true, value: -12345678901 });
  });

  it('numbers: exclusive bounds and steps', () => {
    expect(msg('ratio', text('2.5'))).toEqual({ ok: true, value: 2.5 });
    expect(msg('ratio', text('0'))).toBe('Ratio must be greater than 0 and less than 5; got 0.');
    expect(msg('ratio', text('5'))).toBe('Ratio must be greater than 0 and less than 5; got 5.');
    expect(msg('ratio', text('0.7'))).toBe('Ratio must be a multiple of 0.5; got 0.7.');
    const tenth = { ...fields['ratio']!, multipleOf: 0.1, exclusiveMaximum: undefined };
    expect(readField(tenth, text('0.3'))).toEqual({ ok: true, value: 0.3 }); // 0.3 / 0.1 is not exactly 3 in binary
  });

  it('strings: length and pattern; an optional one left empty is absent', () => {
    expect(msg('code', text('ABC'))).toEqual({ ok: true, value: 'ABC' });
    expect(msg('code', text('abc'))).toBe('Code must match the pattern ^[A-Z]{3}$.');
    expect(msg('code', text('ABCD'))).toBe('Code must be exactly 3 characters; got 4.');
    expect(msg('code', text(''))).toBe('Code is required.');
    expect(msg('note', text(''))).toEqual({ ok: true, absent: true });
    expect(msg('note', text(' kept as typed '))).toEqual({ ok: true, value: ' kept as typed ' });
    expect(readField({ ...fields['note']!, required: true }, text(''))).toEqual({ ok: true, value: '' }); // z.string() takes ''
    expect(msg('nul', text(''))).toEqual({ ok: true, value: null }); // required and nullable
  });

  it('choices by option index; booleans by checkbox', () => {
    expect(msg('color', text('1'))).toEqual({ ok: true, value: 'green' });
    expect(msg('color', text(''))).toEqual({ ok: true, absent: true }); // has a default: the hub fills it in
    expect(msg('color', text('7'))).toBe('Color must be one of red, green.');
    expect(msg('lit', text('0'))).toEqual({ ok: true, value: 'x' });
    expect(msg('flag', { checked: true })).toEqual({ ok: true, value: true });
    expect(msg('flag', { checked: false })).toEqual({ ok: true, absent: true }); // optional without default: "not set"
    expect(readField({ ...fields['flag']!, required: true }, { checked: false })).toEqual({ ok: true, value: false });
    expect(readField({ ...fields['flag']!, hasDefault: true, default: true }, { checked: false })).toEqual({ ok: true, value: false });
  });

  it('JSON fields: parse errors shown; the top-level shape checked, the rest left to the hub', () => {
    expect(msg('nested', text('{"a": 1}'))).toEqual({ ok: true, value: { a: 1 } });
    expect(msg('nested', text('{"a": "x"}'))).toEqual({ ok: true, value: { a: 'x' } }); // the hub refuses it, naming nested.a
    expect(msg('nested', text('{a: 1}'))).toMatch(/^Nested is not valid JSON: .+/);
    expect(msg('nested', text('[1]'))).toBe('Nested must be a JSON object ({ … }).');
    expect(msg('nested', text('{}'))).toBe('Nested needs "a".');
    expect(msg('list', text('["a","b"]'))).toEqual({ ok: true, value: ['a', 'b'] });
    expect(msg('list', text('{"a":1}'))).toBe('List must be a JSON array ([ … ]).');
    expect(msg('list', text('[1,2,3,4]'))).toBe('List must have at most 3 items; got 4.');
    expect(msg('un', text('"s"'))).toEqual({ ok: true, value: 's' });
    expect(msg('rec', text('{"k": 2}'))).toEqual({ ok: true, value: { k: 2 } });
  });
});

describe('readForm', () => {
  const pipeline = describeSchema(PIPELINE_SCHEMA);
  const form = (values: Record<string, string>) => readForm(pipeline, (key) => text(values[key] ?? ''));

  it('the example pipeline: empty optional fields are left out', () => {
    expect(form({ items: '2000' })).toEqual({ ok: true, data: { items: 2000 } });
    // failAtStage is a select: option 1 is 'transform' (0 is fetch; '' is none).
    expect(form({ items: '5', delayMs: '0', failAtStage: '1', failAttempts: '2' })).toEqual({ ok: true, data: { items: 5, delayMs: 0, failAtStage: 'transform', failAttempts: 2 } });
  });

  it('one message per wrong field', () => {
    expect(form({ items: '0', delayMs: '60001', failAttempts: '1.5' })).toEqual({
      ok: false,
      errors: {
        items: 'Items must be from 1 to 1,000,000; got 0.',
        delayMs: 'Delay (ms) must be from 0 to 60,000; got 60,001.',
        failAttempts: 'Fail attempts must be a whole number from 1 to 10; got 1.5.',
      },
    });
  });

  it('a whole-data JSON field is the data itself', () => {
    expect(readForm(describeSchema({ anyOf: [{ type: 'object' }, { type: 'array' }] }), () => text('[1,2]'))).toEqual({ ok: true, data: [1, 2] });
  });
});

describe('fieldsNamed: the fields a hub refusal names', () => {
  it('keys issues by their first path segment, verbatim', () => {
    const message = "SB_JOB_INVALID_DATA: Invalid data for job 'kinds': nested.a: Invalid input: expected number, received string; count: Too big: expected number to be <=10.";
    expect(fieldsNamed(message, ['nested', 'count', 'code'])).toEqual({
      nested: 'nested.a: Invalid input: expected number, received string',
      count: 'count: Too big: expected number to be <=10',
    });
    expect(fieldsNamed("SB_JOB_INVALID_DATA: Invalid data for job 'x': data: Invalid input.", [''])).toEqual({ '': 'data: Invalid input' });
    expect(fieldsNamed('SB_JOB_UNKNOWN: no such job', ['nested'])).toEqual({});
    expect(fieldsNamed("SB_JOB_INVALID_DATA: Invalid data for job 'x': other: bad.", ['nested'])).toEqual({});
  });
});
