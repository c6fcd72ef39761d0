/**
 * How long connections' writes may be held back (the write scheduler's interval), from how late
 * the process's event loop runs while it is writing.
 *
 * Lateness is sampled with a 1 ms timer, at most once per `probeEveryMs` and only while there
 * are writes (an idle process sets no timers), and from the scheduler's own timers. A timer that
 * fires late means the process did not get to run when it wanted: it is busy, or the machine's
 * cores are (a write preempted by another process counts too). Every `windowMs`, the worst
 * lateness seen decides:
 * - above `highLagMs`: double the interval, up to the largest cap the servers set
 *   (`maxWriteDelayMs`): fewer, larger writes free the CPU whose lack made the loop late. From 0
 *   it takes two late windows in a row and starts at a quarter of the cap;
 * - below `lowLagMs` for `calmWindows` windows in a row: shrink it (×0.85 − 0.25 ms per window,
 *   ×0.7 − 0.25 ms under a third of `lowLagMs`; to 0), so a node that keeps up holds nothing back
 *   and adds no latency. Gently, because just under the interval a busy node needs it saturates
 *   again: probing down fast makes the interval, and the latency with it, swing. But halved
 *   (×0.5 − 0.25 ms) when the event loop was busy less than `idleBusy` of the window: halving
 *   the interval at most doubles the writes, which cannot saturate a loop that idle, and after a
 *   load drop the gentle steps kept messages waiting for ~1 s (12 ms → 0 now takes ~250 ms);
 * - between, or after a window with long gaps between writes (no evidence either way): keep it.
 *
 * Contract: `intervalMs` is always a finite number in [0, ceilingMs]; `record` is called once per
 * write pass, `lag` with each lateness measured elsewhere.
 */
export class WriteLoadController {
  /** Current interval, ms (0 = write at the end of every turn). */
  intervalMs = 0;
  /** The largest `maxWriteDelayMs` of the connections seen: the interval never grows past it. */
  ceilingMs = 0;
  private windowStart = Number.NaN;
  private worstLag = 0;
  /** Windows in a row with the worst lateness under `lowLagMs`. */
  private calm = 0;
  /** Windows in a row with the worst lateness over `highLagMs`. */
  private late = 0;
  private probeArmedAt = Number.NaN;
  private lastProbe = Number.NEGATIVE_INFINITY;

  constructor(
    readonly highLagMs = 3,
    readonly lowLagMs = 1.5,
    readonly calmWindows = 2,
    readonly windowMs = 50,
    readonly probeEveryMs = 5,
    private readonly now: () => number = () => performance.now(),
    /** Fraction of the time the event loop was busy since the previous call (0-1). */
    private readonly busySinceLastCall: () => number = eventLoopBusy(),
    readonly idleBusy = 0.3,
  ) {}

  /** A write pass ended at `end` (ms, the scheduler's clock). */
  record(end: number): void {
    if (Number.isNaN(this.windowStart)) this.windowStart = end;
    // No probing where no server coalesces (every cap is 0).
    if (this.ceilingMs > 0 && Number.isNaN(this.probeArmedAt) && end - this.lastProbe >= this.probeEveryMs) {
      this.probeArmedAt = end;
      // unref: a probe must not keep a process alive that has nothing else to do.
      setTimeout(this.probeFired, 1).unref();
    }
    const elapsed = end - this.windowStart;
    if (elapsed < this.windowMs) return;
    const busy = this.busySinceLastCall();
    // A window much longer than windowMs had long gaps without writes: no evidence either way
    // (shrinking over a quiet spell left a node that went from idle to busy with no coalescing
    // just when its burst began, measured as a 250 ms latency spike).
    if (elapsed <= 2 * this.windowMs) this.adjust(this.worstLag, busy);
    this.windowStart = end;
    this.worstLag = 0;
  }

  /** A timer fired `ms` later than it should have. */
  lag(ms: number): void {
    if (ms > this.worstLag) this.worstLag = ms;
  }

  private readonly probeFired = (): void => {
    const now = this.now();
    // libuv fires a 1 ms timer on the next whole millisecond of its cached loop time or later.
    this.lag(now - this.probeArmedAt - 1);
    this.lastProbe = now;
    this.probeArmedAt = Number.NaN;
  };

  /** The worst lateness over the last window, and how busy the loop was (0-1) → the new interval. */
  adjust(worstLag: number, busy = 1): void {
    let next = Math.min(this.intervalMs, this.ceilingMs);
    if (worstLag > this.highLagMs) {
      this.calm = 0;
      this.late++;
      // From nothing, only when two windows in a row were late (one GC pause or preemption is
      // not load), and then at a quarter of the cap: doubling from 1 ms took five windows of
      // saturation before coalescing caught up with a sudden burst.
      if (next === 0) next = this.late >= 2 ? Math.max(1, this.ceilingMs / 4) : 0;
      else next *= 2;
    } else if (worstLag < this.lowLagMs) {
      this.late = 0;
      // Faster when the loop is nowhere near late.
      if (++this.calm >= this.calmWindows) {
        next = busy < this.idleBusy ? next * 0.5 - 0.25 : worstLag < this.lowLagMs / 3 ? next * 0.7 - 0.25 : next * 0.85 - 0.25;
      }
    } else this.calm = this.late = 0;
    this.intervalMs = next < 0.5 ? 0 : Math.min(this.ceilingMs, next);
  }
}

/** Event loop utilization between calls (Node's `performance.eventLoopUtilization`). */
function eventLoopBusy(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, last);
    last = now;
    return delta.utilization;
  };
}
