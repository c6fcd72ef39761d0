import { describe, expect, it } from 'vitest';
import { newJobId } from './job-ids.js';
import { JOB_ID_PATTERN } from './keys.js';

describe('newJobId', () => {
  it('16 base64url characters (96 bits), all different across several refills of the pool', () => {
    const ids = Array.from({ length: 2000 }, () => newJobId());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(ids.every((id) => JOB_ID_PATTERN.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
