import type { JobUpdate } from '@switchboard/contracts';
import { describe, expect, it } from 'vitest';
import { formatDuration, formatResult, jobDuration, percent, shortId } from './format.js';

const job = (over: Partial<JobUpdate>): JobUpdate => ({ jobId: 'j', name: 'hash', seq: 1, state: 'active', progress: 0, attempt: 1, createdAt: 0, updatedAt: 0, ...over });

describe('format', () => {
  it('formatDuration', () => {
    expect([850, 3400, 125_000, 3_720_000, -1, NaN].map(formatDuration)).toEqual(['850 ms', '3.4 s', '2 min 05 s', '1 h 02 min', '–', '–']);
  });

  it('jobDuration: start to finish, start to now while running, nothing before the start', () => {
    expect(jobDuration(job({ startedAt: 1000, finishedAt: 3500, state: 'completed' }), 9999)).toBe(2500);
    expect(jobDuration(job({ startedAt: 1000 }), 1800)).toBe(800);
    expect(jobDuration(job({ state: 'queued' }), 1800)).toBeUndefined();
    expect(jobDuration(job({ startedAt: 1000, updatedAt: 1200, state: 'cancelled' }), 9999)).toBe(200);
  });

  it('percent clamps and rounds; results and ids read well', () => {
    expect([-5, 12.4, 12.6, 140, NaN].map(percent)).toEqual([0, 12, 13, 100, 0]);
    expect(formatResult('abc')).toBe('abc');
    expect(formatResult({ items: 2, checksum: 'ff' })).toBe('{\n  "items": 2,\n  "checksum": "ff"\n}');
    expect(shortId('egMaMaCR_iCge7x6')).toBe('egMaMaCR');
    expect(shortId('short')).toBe('short');
  });
});
