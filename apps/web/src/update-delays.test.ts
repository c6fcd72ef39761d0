import { describe, expect, it } from 'vitest';
import { UpdateDelays } from './update-delays.js';

describe('UpdateDelays', () => {
  it('says nothing arrived yet, then the count, median and p99 of the window', () => {
    const d = new UpdateDelays(100);
    expect(d.describe()).toBe('Live updates: none received yet.');
    expect(d.summary()).toBeUndefined();
    for (let i = 1; i <= 100; i++) d.record(1000, 1000 + i); // 1..100 ms
    expect(d.summary()).toEqual({ p50: 50, p99: 99 });
    expect(d.describe()).toBe('Live updates: 100 received; worker → this page p50 50 ms, p99 99 ms (last 100).');
  });

  it('keeps only the last `size` delays but counts every update; a clock behind counts as 0', () => {
    const d = new UpdateDelays(3);
    for (const ms of [500, 500, 500, 1, 2]) d.record(0, ms);
    d.record(10, 5); // received "before" it was written: another machine's clock
    expect(d.received).toBe(6);
    expect(d.summary()).toEqual({ p50: 1, p99: 2 });
  });
});
