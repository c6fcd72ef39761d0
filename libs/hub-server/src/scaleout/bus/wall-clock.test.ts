import { afterEach, describe, expect, it, vi } from 'vitest';
import { wallClockMs } from './wall-clock.js';

describe('wallClockMs', () => {
  afterEach(() => vi.useRealTimers());

  it('agrees with Date.now() to within a millisecond and has sub-millisecond steps', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const before = Date.now();
      const t = wallClockMs();
      const after = Date.now();
      expect(t).toBeGreaterThanOrEqual(before - 0.05);
      expect(t).toBeLessThan(after + 1.05);
      seen.add(t - Math.floor(t));
    }
    // Fractions of a millisecond, not only whole ones.
    expect([...seen].some((f) => f > 0 && f !== 0.5)).toBe(true);
  });

  it('never goes backwards while the wall clock does not', () => {
    let last = wallClockMs();
    for (let i = 0; i < 5000; i++) {
      const t = wallClockMs();
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
    }
  });

  it('does not go backwards when the monotonic clock runs ahead of the wall clock and is re-anchored', () => {
    // Ten calls per wall-clock millisecond; the monotonic clock gains 2% on it, so the precise value
    // leaves the band (more than 1.05 ms above Date.now()) within one wall millisecond, as seen on a
    // loaded machine, and is taken again from Date.now().
    const start = Math.floor(Date.now()) + 10_000;
    vi.useFakeTimers({ toFake: ['Date'], now: start });
    let mono = performance.now();
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => mono);
    try {
      let last = wallClockMs();
      let reanchors = 0;
      for (let i = 1; i <= 2000; i++) {
        if (i % 10 === 0) vi.setSystemTime(Date.now() + 1);
        mono += 0.102;
        const t = wallClockMs();
        expect(t).toBeGreaterThanOrEqual(last);
        expect(t).toBeGreaterThanOrEqual(Date.now() - 0.05);
        expect(t).toBeLessThan(Date.now() + 1.05);
        if (Math.abs(t - last - 0.102) > 1e-6) reanchors++;
        last = t;
      }
      expect(reanchors).toBeGreaterThan(10);
    } finally {
      spy.mockRestore();
    }
  });

  it('follows a step of the wall clock', () => {
    const stepped = Date.now() + 3_600_000;
    vi.useFakeTimers({ toFake: ['Date'], now: stepped });
    expect(Math.abs(wallClockMs() - stepped)).toBeLessThanOrEqual(1.05);
    vi.useRealTimers();
    expect(Math.abs(wallClockMs() - Date.now())).toBeLessThanOrEqual(1.05);
  });
});
