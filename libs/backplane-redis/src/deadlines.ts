/**
 * Bounds how long commands wait for an answer, with one timer for all of them.
 *
 * Why not a timer per command: every send of a worker is a PUBLISH, and arming and clearing a
 * timer for each (plus the Promise.race around it) was a measurable part of a send's CPU
 * (bench/README.md, "Publisher cost"). Every command gets the same bound, so deadlines come in
 * the order commands were issued: they wait in a FIFO, and one timer is armed for the oldest
 * unanswered one. Redis answers one connection's commands in order, so the oldest usually
 * settles first and the queue drains from its head as answers arrive; the timer itself fires at
 * most once per bound while commands are answered in time, and is left armed (not re-armed per
 * command) but unref'd while nothing waits, so it never holds the process open by itself.
 *
 * Guarantee: a command still unanswered at its deadline is rejected with `late()` no later than
 * the timer can fire after it (the same bound a timer of its own gave).
 */
export class Deadlines {
  /** Waiting commands, oldest first; `queue[head]` is the oldest not yet dropped. */
  private queue: Entry[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Whether the timer holds the event loop open (only while something waits). */
  private refed = false;

  /**
   * @param ms the bound, the same for every command
   * @param late the error a command past its deadline rejects with
   * @param now a monotonic clock in ms (tests pass their own)
   */
  constructor(
    private readonly ms: number,
    private readonly late: () => Error,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Commands waiting for an answer (tests, diagnostics). */
  get pending(): number {
    let n = 0;
    for (let i = this.head; i < this.queue.length; i++) if (!this.queue[i]!.settled) n++;
    return n;
  }

  /**
   * Settles as `work` does, or rejects with `late()` once the bound passed without an answer
   * (`work` goes on; its later outcome is ignored, a rejection included).
   */
  bound<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = { at: this.now() + this.ms, expire: reject, settled: false };
      this.queue.push(entry);
      this.arm();
      work.then(
        (value) => {
          if (this.settle(entry)) resolve(value);
        },
        (err: unknown) => {
          if (this.settle(entry)) reject(err);
        },
      );
    });
  }

  /** Marks `entry` answered; false when its deadline already rejected it. */
  private settle(entry: Entry): boolean {
    if (entry.settled) return false;
    entry.settled = true;
    if (this.queue[this.head] === entry) this.dropSettled();
    return true;
  }

  /** Drops answered commands from the head; when none waits, the timer stops holding the process open. */
  private dropSettled(): void {
    const q = this.queue;
    while (this.head < q.length && q[this.head]!.settled) this.head++;
    if (this.head === q.length) {
      q.length = 0;
      this.head = 0;
      if (this.refed) {
        this.timer?.unref();
        this.refed = false;
      }
    } else if (this.head >= 1024 && this.head * 2 >= q.length) {
      // A command answered out of order (or never) holds the head: compact now and then, not per answer.
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }

  /** Something waits: make sure a timer will look at it, and that it holds the process open. */
  private arm(): void {
    if (!this.timer) {
      this.timer = setTimeout(() => this.sweep(), this.ms);
      this.refed = true;
    } else if (!this.refed) {
      this.timer.ref();
      this.refed = true;
    }
  }

  /** Rejects every command past its deadline, then waits for the next deadline (if any). */
  private sweep(): void {
    this.timer = undefined;
    this.refed = false;
    const now = this.now();
    const q = this.queue;
    while (this.head < q.length) {
      const entry = q[this.head]!;
      if (!entry.settled) {
        if (entry.at > now) break;
        entry.settled = true;
        entry.expire(this.late());
      }
      this.head++;
    }
    this.dropSettled();
    if (this.head < this.queue.length) {
      // Math.ceil: a timer that fires a fraction of a ms early must not find the head just short of its deadline forever.
      this.timer = setTimeout(() => this.sweep(), Math.max(1, Math.ceil(this.queue[this.head]!.at - now)));
      this.refed = true;
    }
  }
}

interface Entry {
  /** When it is late (the `now` clock). */
  readonly at: number;
  readonly expire: (err: Error) => void;
  settled: boolean;
}
