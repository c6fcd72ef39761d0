import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressThrottle } from './progress-throttle.js';

describe('ProgressThrottle', () => {
  // Fake timers fake Date too; the throttle gets that clock injected explicitly.
  const now = () => Date.now();
  let emitted: { value: number; at: number }[];
  let throttle: ProgressThrottle<number>;

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
    emitted = [];
    throttle = new ProgressThrottle<number>(100, (value) => emitted.push({ value, at: Date.now() }), now);
  });
  afterEach(() => {
    throttle.stop();
    vi.useRealTimers();
  });

  const values = () => emitted.map((e) => e.value);

  it('emits the first report at once', () => {
    throttle.report(1);
    expect(values()).toEqual([1]);
  });

  it('coalesces reports within the interval: the latest wins, emitted once when the interval ends', () => {
    throttle.report(1);
    vi.advanceTimersByTime(10);
    throttle.report(2);
    vi.advanceTimersByTime(10);
    throttle.report(3);
    vi.advanceTimersByTime(79); // t = 99
    expect(values()).toEqual([1]);
    vi.advanceTimersByTime(1); // t = 100
    expect(emitted).toEqual([
      { value: 1, at: 1_000_000 },
      { value: 3, at: 1_000_100 },
    ]);
    vi.advanceTimersByTime(1_000);
    expect(values()).toEqual([1, 3]); // nothing repeated
  });

  it('under a flood emits at most one report per interval, and the trailing value last', () => {
    for (let i = 0; i < 1_000; i++) {
      throttle.report(i);
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(200);
    expect(emitted.length).toBeGreaterThanOrEqual(10);
    expect(emitted.length).toBeLessThanOrEqual(11);
    for (let i = 1; i < emitted.length; i++) expect(emitted[i]!.at - emitted[i - 1]!.at).toBeGreaterThanOrEqual(100);
    expect(values().at(-1)).toBe(999);
    // Values only move forward (latest wins, never an older one).
    for (let i = 1; i < emitted.length; i++) expect(emitted[i]!.value).toBeGreaterThan(emitted[i - 1]!.value);
  });

  it('keeps 1 / interval under continuous reports when its timers fire late', () => {
    // Every trailing timer fires 3 ms late, as real timers on a busy process do.
    const late = new ProgressThrottle<number>(100, (v) => emitted.push({ value: v, at: Date.now() }), now);
    const realSetTimeout = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => realSetTimeout(fn, (ms ?? 0) + 3)) as typeof setTimeout);
    try {
      for (let i = 0; i < 500; i++) {
        late.report(i); // every 20 ms for 10 s
        vi.advanceTimersByTime(20);
      }
    } finally {
      spy.mockRestore();
      late.stop();
    }
    // 10 s of reports (plus the skew) at 10 a second: 100 or 101, not the 98 of a timer counted from its firing.
    expect(emitted.length).toBeGreaterThanOrEqual(100);
    for (let i = 1; i < emitted.length; i++) expect(emitted[i]!.at - emitted[i - 1]!.at).toBeGreaterThanOrEqual(50);
  });

  it('a wall clock stepped back does not stall it', () => {
    for (let i = 0; i < 10; i++) {
      throttle.report(i);
      vi.advanceTimersByTime(20);
    }
    const before = emitted.length;
    // An NTP step or a VM resume: the clock goes back an hour while reports go on.
    vi.setSystemTime(Date.now() - 3_600_000);
    for (let i = 10; i < 30; i++) {
      throttle.report(i);
      vi.advanceTimersByTime(20);
    }
    vi.advanceTimersByTime(200);
    expect(emitted.length - before).toBeGreaterThanOrEqual(3);
    expect(values().at(-1)).toBe(29);
  });

  it('after a quiet period the next report goes out at once again', () => {
    throttle.report(1);
    vi.advanceTimersByTime(500);
    throttle.report(2);
    expect(values()).toEqual([1, 2]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stop() drops the pending report and ignores later ones', () => {
    throttle.report(1);
    throttle.report(2); // pending, due at t = 100
    throttle.stop();
    expect(vi.getTimerCount()).toBe(0);
    throttle.report(3);
    vi.advanceTimersByTime(1_000);
    throttle.report(4);
    vi.advanceTimersByTime(1_000);
    expect(values()).toEqual([1]);
  });

  it('reportNow() lets a value out at once in place of the pending one, and restarts the interval', () => {
    throttle.report(1);
    throttle.report(2); // pending
    vi.advanceTimersByTime(30);
    throttle.reportNow(3);
    expect(values()).toEqual([1, 3]);
    expect(vi.getTimerCount()).toBe(0);
    throttle.report(4); // within 100 ms of the last one: pending
    vi.advanceTimersByTime(100);
    expect(values()).toEqual([1, 3, 4]);
    expect(emitted[2]!.at - emitted[1]!.at).toBe(100);
  });
});
