import { describe, expect, it } from 'vitest';
import { DelayWindow } from './delay-window.js';

describe('DelayWindow', () => {
  it('is empty (zeros) before anything arrives', () => {
    expect(new DelayWindow().take()).toEqual({ sends: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 });
  });

  it('reports p50 and p99 within 4.4% above the true value, the exact maximum, then starts over', () => {
    const w = new DelayWindow();
    // 1,000 delays: 0.1, 0.2 ... 100 ms.
    for (let i = 1; i <= 1000; i++) w.record(i / 10);
    const s = w.take();
    expect(s.sends).toBe(1000);
    expect(s.p50Ms).toBeGreaterThanOrEqual(50);
    expect(s.p50Ms).toBeLessThanOrEqual(50 * 1.044);
    expect(s.p99Ms).toBeGreaterThanOrEqual(99);
    expect(s.p99Ms).toBeLessThanOrEqual(100);
    expect(s.maxMs).toBe(100);
    expect(w.take()).toEqual({ sends: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 });
  });

  it('never reports a percentile above the maximum, and takes tiny, zero and huge delays', () => {
    const w = new DelayWindow();
    w.record(0);
    w.record(0.003);
    w.record(0.37);
    let s = w.take();
    expect(s).toMatchObject({ sends: 3, maxMs: 0.37 });
    expect(s.p99Ms).toBe(0.37);
    expect(s.p50Ms).toBeLessThanOrEqual(0.011);
    w.record(3_600_000);
    s = w.take();
    expect(s).toEqual({ sends: 1, p50Ms: 3_600_000, p99Ms: 3_600_000, maxMs: 3_600_000 });
  });
});
