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

  it('follows a step of the wall clock', () => {
    const stepped = Date.now() + 3_600_000;
    vi.useFakeTimers({ toFake: ['Date'], now: stepped });
    expect(Math.abs(wallClockMs() - stepped)).toBeLessThanOrEqual(1.05);
    vi.useRealTimers();
    expect(Math.abs(wallClockMs() - Date.now())).toBeLessThanOrEqual(1.05);
  });
});
