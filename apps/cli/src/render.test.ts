import type { JobListPage, JobSnapshot, JobTypeInfo } from '@switchboard/contracts';
import { describe, expect, it } from 'vitest';
import { describeFields, describeType, renderCounts, renderList, renderTypes, table } from './render.js';

// What zod 4's z.toJSONSchema(schema, { io: 'input' }) writes for these fields.
const SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    rounds: { type: 'integer', minimum: 1, maximum: 50_000_000, description: 'How many rounds' },
    mode: { default: 'a', type: 'string', enum: ['a', 'b'] },
    label: { type: 'string', minLength: 1, maxLength: 20, pattern: '^[a-z]+$' },
    flag: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 5 },
    nested: { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' } }, required: ['x'] },
    ratio: { anyOf: [{ type: 'number', exclusiveMinimum: 0, multipleOf: 0.5 }, { type: 'null' }] },
    kind: { type: 'string', const: 'x' },
    either: { type: ['string', 'number'] },
    anything: {},
  },
  required: ['rounds', 'tags', 'ratio', 'kind', 'either'],
  additionalProperties: false,
};

describe('describeType', () => {
  it.each([
    [{ type: 'integer', minimum: 1, maximum: 100 }, 'integer 1..100'],
    [{ type: 'number', minimum: 0 }, 'number 0..'],
    [{ type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 }, 'number >0 <1'],
    [{ type: 'number', exclusiveMinimum: 0, maximum: 1 }, 'number >0 1'],
    [{ type: 'integer', multipleOf: 5 }, 'integer step 5'],
    [{ type: 'string', enum: ['a', 'b'] }, '"a" | "b"'],
    [{ type: 'string', minLength: 1, maxLength: 20, pattern: '^[a-z]+$' }, 'string 1..20 chars /^[a-z]+$/'],
    [{ type: 'string', format: 'email' }, 'string email'],
    [{ type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 1 }, 'array of integer 0.. (1.. items)'],
    [{ type: 'array' }, 'array of any'],
    [{ type: 'object', properties: { a: {}, b: {} }, required: ['a'] }, 'object {a, b?}'],
    [{ type: 'object', additionalProperties: { type: 'string' } }, 'object'],
    [{ anyOf: [{ type: 'string' }, { type: 'null' }] }, 'string | null'],
    [{ oneOf: [{ const: 1 }, { const: 'one' }] }, '1 | "one"'],
    [{ type: ['string', 'number'] }, 'string | number'],
    [{ type: 'boolean' }, 'boolean'],
    [{}, 'any'],
  ])('%j is %j', (schema, text) => {
    expect(describeType(schema)).toBe(text);
  });
});

describe('describeFields', () => {
  it('every property in schema order: optional when not required, default and description', () => {
    const fields = describeFields(SCHEMA);
    expect(fields.map((f) => f.name)).toEqual(['rounds', 'mode', 'label', 'flag', 'tags', 'nested', 'ratio', 'kind', 'either', 'anything']);
    expect(fields[0]).toEqual({ name: 'rounds', optional: false, type: 'integer 1..50000000', description: 'How many rounds' });
    expect(fields[1]).toEqual({ name: 'mode', optional: true, type: '"a" | "b"', default: '"a"' });
    expect(fields.filter((f) => f.optional).map((f) => f.name)).toEqual(['mode', 'label', 'flag', 'nested', 'anything']);
  });

  it('nothing for a schema without properties', () => {
    expect(describeFields({ type: 'string' })).toEqual([]);
    expect(describeFields({ type: 'object', properties: 'bad' })).toEqual([]);
  });
});

describe('table', () => {
  it('aligns columns two spaces apart without trailing spaces', () => {
    expect(table([['A', 'BB', ''], ['ccc', 'd', '']])).toBe('A    BB\nccc  d');
  });
});

describe('renderTypes', () => {
  const types: JobTypeInfo[] = [
    { name: 'hash', title: 'Hash', description: 'Iterated SHA-256.', stages: ['hashing'], attempts: 1, schema: { type: 'object', properties: { rounds: { type: 'integer', minimum: 1 } }, required: ['rounds'] } },
    { name: 'big', stages: [], attempts: 3, schema: SCHEMA },
    { name: 'raw', title: 'raw', stages: ['a', 'b'], attempts: 2, schema: { type: 'string' } },
  ];

  it('name and title, description, stages and attempts, and the data fields', () => {
    const text = renderTypes(types);
    expect(text.split('\n\n')[0]).toBe('hash  Hash\n  Iterated SHA-256.\n  stages: hashing · attempts: 1\n  data:\n    rounds  integer 1..');
    const big = text.split('\n\n')[1]!;
    expect(big).toMatch(/^big\n  stages: \(none\) · attempts: 3\n  data:\n/);
    expect(big).toContain('    rounds     integer 1..50000000 — How many rounds\n');
    expect(big).toContain('    mode?      "a" | "b" (default "a")\n');
    expect(big).toContain('    nested?    object {x, y?}\n');
    expect(text.split('\n\n')[2]).toBe('raw\n  stages: a, b · attempts: 2\n  data: string');
  });

  it('an empty job set says so', () => {
    expect(renderTypes([])).toBe('the hub has no jobs in its job set');
  });
});

describe('renderList', () => {
  const counts = { queued: 1, delayed: 1, active: 0, completed: 3, failed: 1, cancelled: 0 };
  const job = (fields: Partial<JobSnapshot>): JobSnapshot => ({ jobId: 'j', name: 'hash', seq: 1, state: 'queued', progress: 0, attempt: 1, createdAt: 0, updatedAt: 0, ...fields }) as JobSnapshot;

  it('counts in the contract order', () => {
    expect(renderCounts(counts)).toBe('queued 1 · delayed 1 · active 0 · completed 3 · failed 1 · cancelled 0');
    expect(renderCounts({})).toBe('queued 0 · delayed 0 · active 0 · completed 0 · failed 0 · cancelled 0');
  });

  it('a table with age and a note: due time, priority, the first line of an error; the next cursor', () => {
    const page: JobListPage = {
      counts,
      nextCursor: 'c2',
      jobs: [
        job({ jobId: 'j3', state: 'delayed', dueAt: 70_000, priority: 2, createdAt: 55_000 }),
        job({ jobId: 'j2', name: 'pipeline', state: 'failed', progress: 12.6, stage: 'fetch', attempt: 3, error: `boom\n  at stack`, createdAt: 0 }),
        job({ jobId: 'j1', state: 'completed', progress: 100, createdAt: 0, error: 'ignored' }),
      ],
    };
    const lines = renderList(page, 60_000).split('\n');
    expect(lines[0]).toBe(renderCounts(counts));
    expect(lines[1]).toMatch(/^ID  NAME +STATE +PROGRESS +STAGE +ATTEMPT +CREATED +NOTE$/);
    expect(lines[2]).toMatch(/^j3  hash +delayed +0% +1 +5s ago +due in 10s · priority 2$/);
    expect(lines[3]).toMatch(/^j2  pipeline +failed +13% +fetch +3 +1m 00s ago +boom$/);
    expect(lines[4]).toMatch(/^j1  hash +completed +100% +1 +1m 00s ago$/);
    expect(lines[5]).toBe('more: --cursor c2 (or --all)');
  });

  it('an empty page', () => {
    expect(renderList({ jobs: [], counts }, 0)).toBe(`${renderCounts(counts)}\nno jobs`);
  });
});
