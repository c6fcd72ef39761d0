/**
 * Coalesces progress at the source: the latest value wins and at most one report leaves per
 * `intervalMs` (100 ms = 10 per second), with a trailing report so the last value before a
 * pause is not lost. A tight loop in a thread therefore cannot flood Redis or browsers.
 *
 * The trailing report's timer counts from when it was due, not from when it fired: timers fire a
 * millisecond or more late, and counting from the firing would lose that much per report (a job
 * reporting continuously got ~9.9 instead of 10 a second). Contract: over any run of continuous
 * reports the rate is 1 / `intervalMs`; two reports are never closer than half an interval.
 */
export class ProgressThrottle<T> {
  private last = Number.NEGATIVE_INFINITY;
  private pending: T | undefined;
  private hasPending = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly emit: (value: T) => void,
    /** A monotonic clock by default: a wall clock stepped back would hold reports for as long as the step. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  report(value: T): void {
    if (this.stopped) return;
    const t = this.now();
    // Negative: an injected clock stepped back; the interval counts as passed rather than as the step.
    const elapsed = t - this.last;
    if ((elapsed >= this.intervalMs || elapsed < 0) && !this.timer) {
      this.last = t;
      this.emit(value);
      return;
    }
    this.pending = value;
    this.hasPending = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (!this.hasPending || this.stopped) return;
      this.hasPending = false;
      // Due at last + interval; a timer late by less than half an interval keeps that schedule.
      const now = this.now();
      const due = this.last + this.intervalMs;
      // A clock stepped back (now < due) takes `now`: `last` must never lie in the future.
      this.last = now >= due && now - due < this.intervalMs / 2 ? due : now;
      this.emit(this.pending as T);
    }, Math.max(0, this.intervalMs - Math.max(0, elapsed)));
  }

  /** Lets `value` out now, in place of any pending report (a stage change is never coalesced away). */
  reportNow(value: T): void {
    if (this.stopped) return;
    this.hasPending = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.last = this.now();
    this.emit(value);
  }

  /** Drops any pending report and ignores later ones (called before the terminal update). */
  stop(): void {
    this.stopped = true;
    this.hasPending = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
