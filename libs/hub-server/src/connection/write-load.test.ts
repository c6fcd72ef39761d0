import { afterEach, describe, expect, it, vi } from 'vitest';
import { WriteLoadController } from './write-load.js';

/**
 * A controller with a cap of 12 ms (as a server's default maxWriteDelayMs), a clock the test
 * moves, and an event loop busy `busy` of the time (half, neither idle nor saturated, unless the
 * test says otherwise).
 */
function controller(ceiling = 12) {
  let now = 0;
  let busy = 0.5;
  let active = 0;
  const c = new WriteLoadController({ now: () => now, busySinceLastCall: () => busy, activeMs: () => active });
  c.ceilingMs = ceiling;
  return { c, at: (t: number) => (now = t), setBusy: (b: number) => (busy = b), addActive: (ms: number) => (active += ms) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('WriteLoadController.adjust', () => {
  it('starts at 0; after two late windows in a row holds a quarter of the cap, then doubles while the loop runs late, never past the cap', () => {
    const { c } = controller();
    expect(c.intervalMs).toBe(0);
    const seen = [0, 3, 6, 12, 12].map(() => (c.adjust(10), c.intervalMs));
    expect(seen).toEqual([0, 3, 6, 12, 12]);
  });

  it('does not start coalescing for one late window (a GC pause, a preemption) between calm ones', () => {
    const { c } = controller();
    for (let i = 0; i < 5; i++) {
      c.adjust(10);
      c.adjust(0.5);
    }
    expect(c.intervalMs).toBe(0);
  });

  it('ignores lateness while its own loop is nearly idle (other processes hold the cores): never starts, and shrinks a held interval', () => {
    const { c } = controller();
    for (let i = 0; i < 6; i++) c.adjust(10, 0.1);
    expect(c.intervalMs).toBe(0);
    const held = controller().c;
    held.intervalMs = 12;
    held.adjust(10, 0.1);
    expect(held.intervalMs).toBe(12); // one calm window is not enough
    held.adjust(10, 0.1);
    expect(held.intervalMs).toBeCloseTo(12 * 0.5 - 0.25);
    // The same lateness with the loop doing real work does raise it.
    held.adjust(10, 0.4);
    expect(held.intervalMs).toBeCloseTo((12 * 0.5 - 0.25) * 2);
  });

  it('starts from 1 ms when a quarter of the cap is less', () => {
    const { c } = controller(2);
    c.adjust(10);
    c.adjust(10);
    expect(c.intervalMs).toBe(1);
    c.adjust(10);
    expect(c.intervalMs).toBe(2);
  });

  it('treats a loop busy over saturatedBusy as late: fewer passes are what free it', () => {
    const { c } = controller();
    c.adjust(0.5, 0.9);
    c.adjust(0.5, 0.9);
    expect(c.intervalMs).toBe(3);
    c.adjust(0.5, 0.65); // busy under the threshold and on time: calm
    c.adjust(0.5, 0.65);
    expect(c.intervalMs).toBeCloseTo(3 * 0.85 - 0.25);
  });

  it('shrinks only after calm windows in a row, gently, down to exactly 0', () => {
    const { c } = controller();
    c.intervalMs = 12;
    c.adjust(0.5);
    expect(c.intervalMs).toBe(12); // one calm window is not enough
    c.adjust(0.5);
    expect(c.intervalMs).toBeCloseTo(12 * 0.85 - 0.25);
    const trail: number[] = [];
    for (let i = 0; i < 40 && c.intervalMs > 0; i++) {
      c.adjust(0.5);
      trail.push(c.intervalMs);
    }
    expect(trail.at(-1)).toBe(0);
    expect(trail.every((v, i) => v >= 0 && (i === 0 || v < trail[i - 1]!))).toBe(true);
  });

  it('shrinks faster when the loop is nowhere near late (under a third of the low threshold)', () => {
    const { c } = controller();
    c.intervalMs = 12;
    c.adjust(0.1);
    c.adjust(0.1);
    expect(c.intervalMs).toBeCloseTo(12 * 0.7 - 0.25);
  });

  it('halves after calm windows when the loop was mostly idle (a load drop), 12 ms → 0 in 5 windows', () => {
    const { c } = controller();
    c.intervalMs = 12;
    const trail = [0, 1, 2, 3, 4].map(() => (c.adjust(0.5, 0.1), c.intervalMs));
    expect(trail[0]).toBe(12); // still two calm windows first
    expect(trail[1]).toBeCloseTo(12 * 0.5 - 0.25);
    expect(trail.at(-1)).toBe(0);
  });

  it('stays gentle when the loop was busy, even if on time', () => {
    const { c } = controller();
    c.intervalMs = 12;
    c.adjust(0.5, 0.3);
    c.adjust(0.5, 0.3);
    expect(c.intervalMs).toBeCloseTo(12 * 0.85 - 0.25);
  });

  it('keeps the interval for lateness between the thresholds, and that breaks a calm run', () => {
    const { c } = controller();
    c.intervalMs = 6;
    c.adjust(0.5);
    c.adjust(2);
    expect(c.intervalMs).toBe(6);
    c.adjust(0.5); // the calm run starts again
    expect(c.intervalMs).toBe(6);
  });

  it('stays 0 with a cap of 0 (coalescing off), however late the loop runs', () => {
    const { c } = controller(0);
    for (let i = 0; i < 5; i++) c.adjust(100);
    expect(c.intervalMs).toBe(0);
  });
});

describe('WriteLoadController.record', () => {
  it('adjusts once per window from the mean lateness reported in it', () => {
    const { c } = controller();
    c.record(0);
    c.lag(8);
    c.record(20);
    c.record(50); // the first late window
    expect(c.intervalMs).toBe(0);
    c.lag(2);
    c.lag(9);
    c.record(70);
    expect(c.intervalMs).toBe(0); // window not over
    c.record(100); // the second late window in a row
    expect(c.intervalMs).toBe(3);
    c.record(130);
    c.record(150); // a window with no lateness: the first calm one, so the interval holds
    expect(c.intervalMs).toBe(3);
  });

  it('does not count one late timer among calm ones as a late window (a GC pause is not load)', () => {
    const { c } = controller();
    c.intervalMs = 6;
    for (const t of [0, 50, 100]) {
      c.record(t);
      c.lag(12);
      for (let i = 0; i < 9; i++) c.lag(0.1);
    }
    c.record(150); // three windows with a mean lateness of 1.29 ms: calm
    expect(c.intervalMs).toBeLessThan(6);
  });

  it('shrinks by how busy the loop was over each window', () => {
    const { c, setBusy } = controller();
    c.intervalMs = 12;
    setBusy(0.05);
    for (const t of [0, 50, 100]) c.record(t); // two calm, idle windows
    expect(c.intervalMs).toBeCloseTo(12 * 0.5 - 0.25);
    setBusy(0.5);
    c.record(150);
    expect(c.intervalMs).toBeCloseTo((12 * 0.5 - 0.25) * 0.7 - 0.25); // no lateness, half busy: the gentler step
  });

  it('counts a saturated loop as late even when every timer fired on time', () => {
    const { c, setBusy } = controller();
    setBusy(0.9);
    for (const t of [0, 50, 100]) c.record(t); // two saturated windows, no lateness
    expect(c.intervalMs).toBe(3);
    c.record(150);
    expect(c.intervalMs).toBe(6);
  });

  it('does not adjust over a window with long gaps between writes (no evidence either way)', () => {
    const { c } = controller();
    c.intervalMs = 12;
    c.record(0);
    c.record(500);
    c.record(1000);
    c.record(1500);
    expect(c.intervalMs).toBe(12);
  });

  it('probes lateness with a 1 ms timer while it records write passes', () => {
    vi.useFakeTimers();
    const { c, at } = controller();
    for (const start of [0, 50]) {
      at(start);
      c.record(start); // arms the probe
      at(start + 9); // the timer runs 8 ms late
      vi.advanceTimersByTime(1);
    }
    c.record(100);
    expect(c.intervalMs).toBe(3);
  });

  it("takes the loop's own busy time off the probe's lateness (holding longer does not shorten a long task)", () => {
    vi.useFakeTimers();
    const { c, at, addActive } = controller();
    c.intervalMs = 12;
    for (const start of [0, 50]) {
      at(start);
      c.record(start); // arms the probe, due at +1
      addActive(8.5); // the loop was busy 8.5 ms (a long write pass), 7.5 of them after the probe was due
      at(start + 9); // the probe fires 8 ms late: 0.5 ms of it waiting for a core
      vi.advanceTimersByTime(1);
    }
    c.record(100);
    expect(c.intervalMs).toBeCloseTo(12 * 0.85 - 0.25); // two calm windows, not two late ones
  });

  it('counts lateness the busy time does not explain (the process waited for a core)', () => {
    vi.useFakeTimers();
    const { c, at, addActive } = controller();
    for (const start of [0, 50]) {
      at(start);
      c.record(start);
      addActive(2); // busy 2 ms, 1 of them after the probe was due
      at(start + 9); // 8 ms late: 7 of them not the loop's own work
      vi.advanceTimersByTime(1);
    }
    c.record(100);
    expect(c.intervalMs).toBe(3);
  });

  it('arms at most one probe at a time and none without writes', () => {
    vi.useFakeTimers();
    const { c } = controller();
    expect(vi.getTimerCount()).toBe(0);
    c.record(0);
    c.record(0.5);
    c.record(1);
    expect(vi.getTimerCount()).toBe(1);
  });

  it('does not probe where no server coalesces (cap 0)', () => {
    vi.useFakeTimers();
    const { c } = controller(0);
    c.record(0);
    c.record(10);
    expect(vi.getTimerCount()).toBe(0);
  });
});
