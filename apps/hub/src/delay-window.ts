import type { DelayStats } from '@switchboard/contracts';

/** Buckets 1/16 of an octave wide (about 4.4%) from 0.01 ms up to about 100 s. */
const MIN_MS = 0.01;
const PER_OCTAVE = 16;
const BUCKETS = Math.ceil(Math.log2(1e5 / MIN_MS) * PER_OCTAVE) + 1;

/**
 * The delays of the sends that reached this node since the last `take()`: what the dashboard shows
 * per hub node (p50, p99, max over the last heartbeat period). Recording is a log and an increment
 * (it runs once per received send); percentiles are the upper edge of their bucket, so they
 * overstate by at most 4.4%. The exact maximum is kept as is.
 */
export class DelayWindow {
  private readonly counts = new Uint32Array(BUCKETS);
  private total = 0;
  private max = 0;

  record(ms: number): void {
    const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log2(ms / MIN_MS) * PER_OCTAVE));
    this.counts[i]!++;
    this.total++;
    if (ms > this.max) this.max = ms;
  }

  /** The figures since the previous call, then starts over. Percentiles are 0 when nothing arrived. */
  take(): DelayStats {
    const stats: DelayStats = { sends: this.total, p50Ms: this.percentile(0.5), p99Ms: this.percentile(0.99), maxMs: round(this.max) };
    this.counts.fill(0);
    this.total = 0;
    this.max = 0;
    return stats;
  }

  private percentile(q: number): number {
    if (!this.total) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      // The last bucket holds everything beyond the range: its only known bound is the maximum.
      if (seen >= rank) return round(i === BUCKETS - 1 ? this.max : Math.min(this.max, MIN_MS * 2 ** (i / PER_OCTAVE)));
    }
    return round(this.max);
  }
}

/** Microsecond precision is plenty for a dashboard and keeps the JSON short. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
