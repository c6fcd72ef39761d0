import { SwitchboardError } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from './define-job.js';
import { JobCatalog } from './job-set.js';
import demoJobs from './examples/demo-jobs.js';

const catalog = JobCatalog.of(demoJobs);

function rejection(name: unknown, data: unknown): SwitchboardError {
  try {
    catalog.validate(name, data);
  } catch (err) {
    expect(err).toBeInstanceOf(SwitchboardError);
    return err as SwitchboardError;
  }
  throw new Error(`validate(${JSON.stringify(name)}, ${JSON.stringify(data)}) accepted`);
}

const noop = async () => 1;

describe('JobCatalog.validate (the example job set)', () => {
  it('accepts valid requests and returns the parsed data', () => {
    expect(catalog.validate('hash', { rounds: 1 })).toMatchObject({ name: 'hash', data: { rounds: 1 } });
    expect(catalog.validate('hash', { rounds: 50_000_000 })).toMatchObject({ name: 'hash', data: { rounds: 50_000_000 } });
    expect(catalog.validate('pipeline', { items: 3, delayMs: 0, failAtStage: 'publish', failAttempts: 2 })).toMatchObject({
      name: 'pipeline',
      data: { items: 3, delayMs: 0, failAtStage: 'publish', failAttempts: 2 },
    });
  });

  it('applies schema defaults and transforms before the job is queued', () => {
    const withDefault = defineJob({ name: 'd', schema: z.object({ n: z.number().default(7) }), process: noop });
    expect(JobCatalog.of([withDefault]).validate('d', {}).data).toEqual({ n: 7 });
  });

  it('unknown names: SB_JOB_UNKNOWN naming the name and listing the known jobs of this set', () => {
    expect(catalog.names).toEqual(['hash', 'pipeline']);
    const err = rejection('sha', { rounds: 1 });
    expect(err.code).toBe('SB_JOB_UNKNOWN');
    expect(err.message).toBe('Unknown job name "sha"; known jobs: hash, pipeline.');
    expect(rejection(7, {}).message).toBe('Unknown job name 7; known jobs: hash, pipeline.');
    expect(rejection(undefined, {}).message).toBe('Unknown job name undefined; known jobs: hash, pipeline.');
    // Inherited object properties are not job names.
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(catalog.has(name)).toBe(false);
      expect(rejection(name, {}).code).toBe('SB_JOB_UNKNOWN');
    }
    // Another set knows other jobs: no global registry.
    const own = JobCatalog.of([defineJob({ name: 'report', schema: z.object({}), process: noop })]);
    expect(() => own.validate('hash', { rounds: 1 })).toThrow('Unknown job name "hash"; known jobs: report.');
    expect(() => JobCatalog.of([]).validate('x', {})).toThrow('known jobs: (none: the job set is empty)');
  });

  it('invalid data: SB_JOB_INVALID_DATA naming the job and each bad field', () => {
    const cases: [string, unknown, RegExp][] = [
      ['hash', { rounds: 0 }, /^Invalid data for job 'hash': rounds: .*>=\s?1.*\.$/],
      ['hash', { rounds: 50_000_001 }, /^Invalid data for job 'hash': rounds: .*50000000/],
      ['hash', { rounds: 2.5 }, /^Invalid data for job 'hash': rounds: .*expected int\b/],
      ['hash', { rounds: '10' }, /^Invalid data for job 'hash': rounds: .*number/],
      ['hash', {}, /^Invalid data for job 'hash': rounds: /],
      ['hash', { rounds: 1, speed: 'fast' }, /^Invalid data for job 'hash': data: .*speed/],
      ['hash', null, /^Invalid data for job 'hash': data: .*object/],
      ['hash', [1], /^Invalid data for job 'hash': data: /],
      ['pipeline', { items: 1, failAtStage: 'deploy' }, /^Invalid data for job 'pipeline': failAtStage: .*fetch.*transform.*publish/],
      ['pipeline', { items: 1, delayMs: 60_001 }, /^Invalid data for job 'pipeline': delayMs: /],
      ['pipeline', { items: 1, failAttempts: 0 }, /^Invalid data for job 'pipeline': failAttempts: /],
    ];
    for (const [name, data, message] of cases) {
      const err = rejection(name, data);
      expect(err.code, JSON.stringify(data)).toBe('SB_JOB_INVALID_DATA');
      expect(err.message, JSON.stringify(data)).toMatch(message);
    }
    // Every problem is listed, separated by '; '.
    const both = rejection('pipeline', { items: 0, delayMs: -1 });
    expect(both.message).toMatch(/^Invalid data for job 'pipeline': items: .+; delayMs: .+\.$/);
  });
});

describe('JobCatalog.of (checking a job set)', () => {
  const a = defineJob({ name: 'a', schema: z.object({}), process: noop });
  it('refuses what is not an array, entries that are not job definitions, and duplicate names', () => {
    const bad: [unknown, RegExp][] = [
      [{ a }, /^set must be an array of job definitions \(defineJob results\), got an object\.$/],
      [undefined, /got undefined undefined/],
      [[a, { name: 'b', process: noop }], /^set: entry 1 \('b'\) is not a job definition \(an object\); make each entry with defineJob/],
      [[noop], /^set: entry 0 is not a job definition \(a function \(noop\)\)/],
      [[a, a], /^set: the job name 'a' appears twice; job names must be unique\.$/],
    ];
    for (const [set, message] of bad) {
      expect(() => JobCatalog.of(set as never, 'set')).toThrow(expect.objectContaining({ code: 'SB_JOB_SET_INVALID', message: expect.stringMatching(message) }));
    }
  });

  it('recognises a definition from another copy of the package by its brand, not by instanceof', () => {
    const copy = JSON.parse(JSON.stringify({ ...a, process: undefined }));
    expect(() => JobCatalog.of([{ ...copy, schema: a.schema, process: noop }])).not.toThrow();
  });
});

describe('defineJob', () => {
  it('checks its options with messages that name the job and the option', () => {
    const schema = z.object({});
    const bad: [unknown, RegExp][] = [
      [{ name: '1st', schema, process: noop }, /name must be 1-64 characters .* starting with a letter; got "1st"/],
      [{ name: 'x', schema: {}, process: noop }, /^job 'x': schema must be a zod schema/],
      [{ name: 'x', schema }, /^job 'x': process must be an async function/],
      [{ name: 'x', schema, process: noop, stages: ['a', 'a'] }, /^job 'x': stages must be an array of distinct non-empty names/],
      [{ name: 'x', schema, process: noop, attempts: 0 }, /^job 'x': attempts must be an integer from 1 to 100, got number 0/],
      [{ name: 'x', schema, process: noop, backoffMs: -1 }, /^job 'x': backoffMs must be an integer/],
    ];
    for (const [spec, message] of bad) expect(() => defineJob(spec as never)).toThrow(expect.objectContaining({ code: 'SB_CONFIG_INVALID', message: expect.stringMatching(message) }));
  });

  it('fills defaults and freezes the definition', () => {
    const d = defineJob({ name: 'x', schema: z.object({}), process: noop });
    expect(d).toMatchObject({ name: 'x', stages: [], attempts: 1, backoffMs: 0 });
    expect(Object.isFrozen(d)).toBe(true);
  });
});
