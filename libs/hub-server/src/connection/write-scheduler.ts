import type { HubServerMetrics } from '../telemetry/metrics.js';
import { WriteLoadController } from './write-load.js';

/**
 * The messagesSent metrics of one flush pass, summed per hub and metrics sink: a broadcast to N
 * connections makes one metrics call per hub instead of N (counter updates cost as much as a
 * small write).
 */
export class SentTally {
  private readonly hubs: string[] = [];
  private readonly sinks: HubServerMetrics[] = [];
  private readonly messages: number[] = [];
  private readonly bytes: number[] = [];

  add(hub: string, sink: HubServerMetrics, messages: number, bytes: number): void {
    let i = 0;
    while (i < this.hubs.length && (this.hubs[i] !== hub || this.sinks[i] !== sink)) i++;
    if (i === this.hubs.length) {
      this.hubs.push(hub);
      this.sinks.push(sink);
      this.messages.push(0);
      this.bytes.push(0);
    }
    this.messages[i]! += messages;
    this.bytes[i]! += bytes;
  }

  report(): void {
    try {
      for (let i = 0; i < this.hubs.length; i++) this.sinks[i]!.messagesSent?.(this.hubs[i]!, this.messages[i]!, this.bytes[i]!);
    } finally {
      this.hubs.length = this.sinks.length = this.messages.length = this.bytes.length = 0;
    }
  }
}

/** What the scheduler writes: a connection with queued output. */
export interface Writable {
  /** Writes everything queued as one transport unit. */
  writeQueued(tally: SentTally): void;
  /** Logs a write that threw (the pass goes on with the other connections). */
  writeFailed(err: unknown): void;
  /** The most this connection's output may be held back, ms (its server's `maxWriteDelayMs`; 0 = never). */
  readonly maxWriteDelayMs: number;
  /** `performance.now()` of the last write (set by the scheduler, and by `wrote` for direct writes). */
  lastWriteAt: number;
  /** Scheduler bookkeeping: 0 = not scheduled, -1 = this turn, > 0 = deferred until that time. */
  writeDue: number;
}

/**
 * Decides when each connection's queued output is written. The rule, per connection, with
 * `interval` the load controller's current value capped by the connection's `maxWriteDelayMs`:
 * - output queued when the connection was last written `interval` or more ago (or `urgent`)
 *   leaves at the end of the current turn of the event loop, with everything else queued in that
 *   turn (one microtask for all connections, not one per connection);
 * - output queued sooner waits until `lastWriteAt + interval`, then leaves in one frame with
 *   whatever else arrived meanwhile.
 * Order is kept: a connection's output is one queue, written whole each time.
 *
 * Why: a socket write costs 5-10 µs (mostly the syscall and, on loopback, the receiver's TCP work)
 * whatever its size, so a connection receiving hundreds of messages a second costs a write per
 * message unless they are grouped. Grouping only what arrived in the same turn happens only once
 * the node is already saturated, and then the latency is whatever the queues make it. The
 * controller (write-load.ts) keeps `interval` at 0 while the process keeps up, so a node that is
 * not busy adds no latency, and raises it when the event loop is saturated or waits for a core:
 * writes per connection then stay under 1000 / interval a second and the added latency under
 * `interval`.
 */
export class WriteScheduler {
  private dirty: Writable[] = [];
  private microtaskQueued = false;
  /**
   * Held connections by the whole millisecond they are due in (`Math.ceil(writeDue)`), and those
   * milliseconds in ascending order: a timer firing writes what is due without scanning every
   * held connection (a node with 50,000 busy connections fires about once a millisecond), and
   * there are only about `maxWriteDelayMs` distinct milliseconds at a time.
   */
  private readonly buckets = new Map<number, Writable[]>();
  private readonly dueMs: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Number.POSITIVE_INFINITY;
  /** When the timer was armed, and the loop's busy time then: busy time is not lateness (write-load.ts). */
  private timerArmedAt = 0;
  private timerActive = 0;
  private readonly tally = new SentTally();

  constructor(
    readonly load: WriteLoadController = new WriteLoadController(),
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Schedules `w`'s queued output; `urgent` (answers to the client's calls) skips the interval. */
  schedule(w: Writable, urgent = false): void {
    if (w.writeDue === -1) return;
    if (w.writeDue > 0 && !urgent) return;
    if (w.maxWriteDelayMs > this.load.ceilingMs) this.load.ceilingMs = w.maxWriteDelayMs;
    const interval = urgent ? 0 : Math.min(this.load.intervalMs, w.maxWriteDelayMs);
    const due = interval > 0 ? w.lastWriteAt + interval : 0;
    if (due === 0 || due <= this.now()) {
      w.writeDue = -1;
      this.dirty.push(w);
      if (!this.microtaskQueued) {
        this.microtaskQueued = true;
        queueMicrotask(this.writeDirty);
      }
      return;
    }
    w.writeDue = due;
    this.hold(w, Math.ceil(due));
  }

  private hold(w: Writable, ms: number): void {
    let bucket = this.buckets.get(ms);
    if (!bucket) {
      this.buckets.set(ms, (bucket = []));
      let i = this.dueMs.length;
      while (i > 0 && this.dueMs[i - 1]! > ms) i--;
      this.dueMs.splice(i, 0, ms);
      if (ms < this.timerDue) this.arm(ms);
    }
    bucket.push(w);
  }

  /** `w` was written directly (handshake, close, reattach): its scheduled write, if any, is void. */
  wrote(w: Writable): void {
    w.lastWriteAt = this.now();
    // Its entry in the dirty list or a bucket, if any, is skipped: its writeDue no longer matches.
    w.writeDue = 0;
  }

  private readonly writeDirty = (): void => {
    this.microtaskQueued = false;
    const list = this.dirty;
    this.dirty = [];
    const start = this.now();
    for (const w of list) if (w.writeDue === -1) this.write(w, start);
    this.tally.report();
    this.load.record(this.now());
  };

  private readonly writeDeferred = (): void => {
    const armedFor = this.timerDue;
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
    const start = this.now();
    this.load.timerFired(this.timerArmedAt, armedFor + 1, this.timerActive, start);
    // Timers fire on whole milliseconds: a millisecond that ends within the next half of one goes now.
    const cutoff = start + 0.5;
    while (this.dueMs.length && this.dueMs[0]! <= cutoff) {
      const ms = this.dueMs.shift()!;
      const bucket = this.buckets.get(ms)!;
      this.buckets.delete(ms);
      // Entries whose connection was written meanwhile (urgently, or directly) or held again for
      // another millisecond are stale: skipped here (a connection can be listed more than once).
      for (const w of bucket) if (w.writeDue > 0 && Math.ceil(w.writeDue) === ms) this.write(w, start);
    }
    this.tally.report();
    this.load.record(this.now());
    const next = this.dueMs[0];
    if (next !== undefined && next < this.timerDue) this.arm(next);
  };

  private write(w: Writable, now: number): void {
    w.writeDue = 0;
    w.lastWriteAt = now;
    try {
      w.writeQueued(this.tally);
    } catch (err) {
      w.writeFailed(err);
    }
  }

  private arm(due: number): void {
    if (this.timer) clearTimeout(this.timer);
    const now = this.now();
    this.timerDue = due;
    this.timerArmedAt = now;
    this.timerActive = this.load.options.activeMs();
    this.timer = setTimeout(this.writeDeferred, Math.max(1, Math.ceil(due - now)));
  }
}

/** The process's scheduler: shared by every server in the process, so one pass writes them all. */
export const writeScheduler = new WriteScheduler();

/**
 * Write coalescing in this process right now: the interval the load controller applies (ms; 0 =
 * nothing is held back), capped per connection by its server's `maxWriteDelayMs`. For metrics
 * and diagnostics.
 */
export function writeCoalescingIntervalMs(): number {
  return writeScheduler.load.intervalMs;
}
