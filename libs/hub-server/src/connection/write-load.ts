/** Tuning of a {@link WriteLoadController}; every field has a default. */
export interface WriteLoadOptions {
  /** Mean lateness (ms, net of the loop's own busy time) over which a window counts as late. @defaultValue 3 */
  highLagMs: number;
  /** Mean lateness under which a window counts as calm (if not saturated). @defaultValue 1.5 */
  lowLagMs: number;
  /** Calm windows in a row before the interval shrinks. @defaultValue 2 */
  calmWindows: number;
  /** The window over which lateness and busyness are judged, ms. @defaultValue 50 */
  windowMs: number;
  /** The lateness probe is armed at most this often, ms. @defaultValue 5 */
  probeEveryMs: number;
  /** A window with the loop busy less than this (0-1) and on time halves the interval. @defaultValue 0.3 */
  idleBusy: number;
  /** A window with the loop busy more than this (0-1) counts as late, whatever the lateness. @defaultValue 0.7 */
  saturatedBusy: number;
  /** The clock, ms (the scheduler's). */
  now: () => number;
  /** The event loop's busy (not idle) time so far, ms: lateness measurements take off what passed of it. */
  activeMs: () => number;
  /** Fraction of the time the event loop was busy since the previous call (0-1). */
  busySinceLastCall: () => number;
}

/**
 * How long connections' writes may be held back (the write scheduler's interval), from how late
 * the process's event loop runs while it is writing and how busy it is.
 *
 * Lateness is sampled with a 1 ms timer, at most once per `probeEveryMs` and only while there
 * are writes (an idle process sets no timers), and from the scheduler's own timers. A timer that
 * fires late means the process did not get to run when it wanted: it is busy, or the machine's
 * cores are (a write preempted by another process counts too). Only the part of it the process
 * spent waiting to be scheduled counts: the time its loop was busy meanwhile (`activeMs`: write
 * passes, decoding the backplane's messages) is taken off. One long task is no reason to hold
 * output: a pass writes each connection with output once whatever the interval, so holding does
 * not shorten it. What holding does cut is the number of passes, so a loop busy more than
 * `saturatedBusy` of a window counts as late (saturated) too. Every `windowMs`, the mean of the lateness measured decides (the mean, not the
 * worst: one GC pause or preemption among calm probes is not load, while a machine short of cores
 * makes most probes late):
 * - above `highLagMs` while the loop is busy at least `idleBusy` (or the loop saturated): double the interval, up to the largest cap the
 *   servers set (`maxWriteDelayMs`): fewer, larger writes free the CPU whose lack made the loop
 *   late. From 0 it takes two late windows in a row and starts at a quarter of the cap;
 * - below `lowLagMs` for `calmWindows` windows in a row: shrink it (×0.85 − 0.25 ms per window,
 *   ×0.7 − 0.25 ms under a third of `lowLagMs`; to 0), so a node that keeps up holds nothing back
 *   and adds no latency. Gently, because just under the interval a busy node needs it saturates
 *   again. But halved (×0.5 − 0.25 ms) when the event loop was busy less than `idleBusy` of the
 *   window, late or not: halving the interval at most doubles the writes, which cannot saturate a
 *   loop that idle, and lateness there is other processes holding the cores (the node's own work
 *   does not demand holding; a real-time node at a moderate rate must not pay latency for it);
 * - between, or after a window with long gaps between writes (no evidence either way): keep it.
 * The measurements behind each rule: bench/README.md, "How the write-load controller got its rules".
 *
 * Contract: `intervalMs` is always a finite number in [0, ceilingMs]; `record` is called once per
 * write pass, `lag` with each lateness measured elsewhere, net of the `activeMs` that passed meanwhile.
 */
export class WriteLoadController {
  /** Current interval, ms (0 = write at the end of every turn). */
  intervalMs = 0;
  /** The largest `maxWriteDelayMs` of the connections seen: the interval never grows past it. */
  ceilingMs = 0;
  readonly options: Readonly<WriteLoadOptions>;
  private windowStart = Number.NaN;
  /** Sum and count of the lateness measured in the current window. */
  private lagSum = 0;
  private lagCount = 0;
  /** Windows in a row with the mean lateness under `lowLagMs`. */
  private calm = 0;
  /** Windows in a row with the mean lateness over `highLagMs` (or the loop saturated). */
  private late = 0;
  private probeArmedAt = Number.NaN;
  private probeActive = 0;
  private lastProbe = Number.NEGATIVE_INFINITY;

  constructor(options: Partial<WriteLoadOptions> = {}) {
    this.options = {
      highLagMs: 3,
      lowLagMs: 1.5,
      calmWindows: 2,
      windowMs: 50,
      probeEveryMs: 5,
      idleBusy: 0.3,
      saturatedBusy: 0.7,
      now: () => performance.now(),
      activeMs: () => performance.eventLoopUtilization().active,
      busySinceLastCall: options.busySinceLastCall ?? eventLoopBusy(),
      ...options,
    };
  }

  /** A write pass ended at `end` (ms, the scheduler's clock). */
  record(end: number): void {
    const { windowMs, probeEveryMs } = this.options;
    if (Number.isNaN(this.windowStart)) this.windowStart = end;
    // No probing where no server coalesces (every cap is 0).
    if (this.ceilingMs > 0 && Number.isNaN(this.probeArmedAt) && end - this.lastProbe >= probeEveryMs) {
      this.probeArmedAt = end;
      this.probeActive = this.options.activeMs();
      // unref: a probe must not keep a process alive that has nothing else to do.
      setTimeout(this.probeFired, 1).unref();
    }
    const elapsed = end - this.windowStart;
    if (elapsed < windowMs) return;
    const busy = this.options.busySinceLastCall();
    // A window much longer than windowMs had long gaps without writes: no evidence either way.
    if (elapsed <= 2 * windowMs) this.adjust(this.lagCount ? this.lagSum / this.lagCount : 0, busy);
    this.windowStart = end;
    this.lagSum = this.lagCount = 0;
  }

  /** A timer fired `ms` later than it should have, not counting the loop's busy time meanwhile. */
  lag(ms: number): void {
    this.lagSum += Math.max(0, ms);
    this.lagCount++;
  }

  /**
   * A timer armed at `armedAt`, when the loop's busy time was `activeAtArm`, for `dueAt`, fired
   * at `firedAt` (ms): its lateness less the loop's busy time after `dueAt`. That is taken as all
   * the busy time since arming beyond `dueAt - armedAt` (as if the loop was busy until the timer
   * was due), so the lateness is never underestimated.
   */
  timerFired(armedAt: number, dueAt: number, activeAtArm: number, firedAt: number): void {
    const busyAfterDue = Math.max(0, this.options.activeMs() - activeAtArm - (dueAt - armedAt));
    this.lag(firedAt - dueAt - busyAfterDue);
  }

  private readonly probeFired = (): void => {
    const now = this.options.now();
    // libuv fires a 1 ms timer on the next whole millisecond of its cached loop time or later.
    this.timerFired(this.probeArmedAt, this.probeArmedAt + 1, this.probeActive, now);
    this.lastProbe = now;
    this.probeArmedAt = Number.NaN;
  };

  /**
   * The mean lateness over the last window, and how busy the loop was (0-1) → the new interval.
   * `busy` defaults to a loop neither idle nor saturated.
   */
  adjust(lateMs: number, busy = 0.5): void {
    const { highLagMs, lowLagMs, calmWindows, idleBusy, saturatedBusy } = this.options;
    let next = Math.min(this.intervalMs, this.ceilingMs);
    // Lateness counts only when this node's own work fills the loop: a loop busy less than
    // idleBusy that still runs late is waiting for cores other processes hold (a load generator,
    // Redis, other services). Holding its writes would add latency and save almost nothing.
    const ownWork = busy >= idleBusy;
    if (busy > saturatedBusy || (lateMs > highLagMs && ownWork)) {
      this.calm = 0;
      this.late++;
      // From nothing, only when two windows in a row were late (one GC pause or preemption is
      // not load), and then at a quarter of the cap, so coalescing catches up with a sudden burst.
      if (next === 0) next = this.late >= 2 ? Math.max(1, this.ceilingMs / 4) : 0;
      else next *= 2;
    } else if (lateMs < lowLagMs || !ownWork) {
      this.late = 0;
      // Faster when the loop is nowhere near late.
      if (++this.calm >= calmWindows) {
        next = busy < idleBusy ? next * 0.5 - 0.25 : lateMs < lowLagMs / 3 ? next * 0.7 - 0.25 : next * 0.85 - 0.25;
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
