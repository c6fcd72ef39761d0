import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Coalescer } from './coalesce.js';

describe('Coalescer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the first ask runs at once; asks during a run fold into one more run', async () => {
    const starts: number[] = [];
    let finish: () => void = () => {};
    const c = new Coalescer(() => {
      starts.push(Date.now());
      return new Promise<void>((r) => (finish = r));
    }, 100);
    c.request();
    expect(starts).toHaveLength(1);
    for (let i = 0; i < 50; i++) c.request();
    await vi.advanceTimersByTimeAsync(500);
    expect(starts).toHaveLength(1); // never two at once
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(starts).toHaveLength(2); // 500 ms since the first start: at once
    finish();
    await vi.advanceTimersByTimeAsync(1000);
    expect(starts).toHaveLength(2); // nothing asked since
  });

  it('1,000 changes a second for 3 s: at most 10 runs a second, and the last change is read', async () => {
    let runs = 0;
    let lastSeen = -1;
    let latest = -1;
    const c = new Coalescer(async () => {
      runs++;
      const v = latest;
      await new Promise((r) => setTimeout(r, 5)); // a list read takes a while
      lastSeen = v;
    }, 100);
    for (let ms = 0; ms < 3000; ms++) {
      latest = ms;
      c.request();
      await vi.advanceTimersByTimeAsync(1);
    }
    await vi.advanceTimersByTimeAsync(300);
    expect(runs).toBeGreaterThanOrEqual(25);
    expect(runs).toBeLessThanOrEqual(31);
    expect(lastSeen).toBe(2999);
    expect(c.runs).toBe(runs);
  });

  it('a failing run does not stop later ones; dispose stops pending ones', async () => {
    let runs = 0;
    const c = new Coalescer(async () => {
      runs++;
      throw new Error('list failed');
    }, 100);
    c.request();
    await vi.advanceTimersByTimeAsync(0);
    c.request();
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(2);
    c.request();
    c.dispose();
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(2);
  });
});
