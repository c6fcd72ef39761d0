import { SwitchboardError } from '@switchboard/protocol';
import { describe, expect, it } from 'vitest';
import { isJobName, JOB_NAMES, validateJob } from './definitions.js';

function rejection(name: unknown, data: unknown): SwitchboardError {
  try {
    validateJob(name, data);
  } catch (err) {
    expect(err).toBeInstanceOf(SwitchboardError);
    return err as SwitchboardError;
  }
  throw new Error(`validateJob(${JSON.stringify(name)}, ${JSON.stringify(data)}) accepted`);
}

describe('validateJob', () => {
  it('accepts valid requests and returns the parsed data', () => {
    expect(validateJob('hash', { rounds: 1 })).toEqual({ name: 'hash', data: { rounds: 1 } });
    expect(validateJob('hash', { rounds: 50_000_000 })).toEqual({ name: 'hash', data: { rounds: 50_000_000 } });
    expect(validateJob('pipeline', { items: 3, delayMs: 0, failAtStage: 'publish', failAttempts: 2 })).toEqual({
      name: 'pipeline',
      data: { items: 3, delayMs: 0, failAtStage: 'publish', failAttempts: 2 },
    });
  });

  it('unknown names: SB_JOB_UNKNOWN naming the name and listing the known jobs', () => {
    expect(JOB_NAMES).toEqual(['hash', 'pipeline']);
    const err = rejection('sha', { rounds: 1 });
    expect(err.code).toBe('SB_JOB_UNKNOWN');
    expect(err.message).toBe('Unknown job name "sha"; known jobs: hash, pipeline.');
    expect(rejection(7, {}).message).toBe('Unknown job name 7; known jobs: hash, pipeline.');
    expect(rejection(undefined, {}).message).toBe('Unknown job name undefined; known jobs: hash, pipeline.');
    // Inherited object properties are not job names.
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(isJobName(name)).toBe(false);
      expect(rejection(name, {}).code).toBe('SB_JOB_UNKNOWN');
    }
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
