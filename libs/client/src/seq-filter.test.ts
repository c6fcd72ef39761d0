import { describe, expect, it } from 'vitest';
import { SeqFilter } from './seq-filter.js';

describe('SeqFilter', () => {
  it('accepts each job\'s seqs only while they rise, and drops duplicates and stale ones', () => {
    const f = new SeqFilter();
    const seen = [1, 2, 2, 4, 3, 5, 1].map((seq) => f.accept({ jobId: 'a', seq }));
    expect(seen).toEqual([true, true, false, true, false, true, false]);
    expect(f.highest('a')).toBe(5);
  });

  it('keeps jobs apart', () => {
    const f = new SeqFilter();
    expect(f.accept({ jobId: 'a', seq: 7 })).toBe(true);
    expect(f.accept({ jobId: 'b', seq: 1 })).toBe(true);
    expect(f.accept({ jobId: 'a', seq: 2 })).toBe(false);
    expect(f.highest('b')).toBe(1);
  });

  it('a gap is fine (coalesced or missed updates): only the order matters', () => {
    const f = new SeqFilter();
    expect(f.accept({ jobId: 'a', seq: 1 })).toBe(true);
    expect(f.accept({ jobId: 'a', seq: 9 })).toBe(true);
    expect(f.accept({ jobId: 'a', seq: 8 })).toBe(false);
  });

  it('forget starts the job afresh', () => {
    const f = new SeqFilter();
    f.accept({ jobId: 'a', seq: 3 });
    f.forget('a');
    expect(f.highest('a')).toBeUndefined();
    expect(f.accept({ jobId: 'a', seq: 3 })).toBe(true);
  });
});
