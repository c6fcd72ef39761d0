/**
 * A latency histogram with logarithmic buckets (1% wide) from 1 µs to about 1,000 s: recording is
 * one Math.log and an increment (no allocation), and histograms from several processes merge by
 * adding their bucket arrays.
 */
const MIN_MS = 0.001;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
export const HISTOGRAM_BUCKETS = Math.ceil(Math.log(1e6 / MIN_MS) / LOG_GROWTH) + 2;

export class Histogram {
  readonly counts: Float64Array;
  total = 0;

  constructor(counts?: ArrayLike<number>) {
    this.counts = new Float64Array(HISTOGRAM_BUCKETS);
    if (counts) this.merge(counts);
  }

  record(ms: number): void {
    const i = ms <= MIN_MS ? 0 : Math.min(HISTOGRAM_BUCKETS - 1, Math.floor(Math.log(ms / MIN_MS) / LOG_GROWTH) + 1);
    this.counts[i]!++;
    this.total++;
  }

  merge(counts: ArrayLike<number>): void {
    for (let i = 0; i < counts.length && i < HISTOGRAM_BUCKETS; i++) {
      this.counts[i]! += counts[i]!;
      this.total += counts[i]!;
    }
  }

  /** The p-th percentile (0-100) in ms: the upper edge of the bucket holding it; NaN when empty. */
  percentile(p: number): number {
    if (!this.total) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return i === 0 ? MIN_MS : MIN_MS * GROWTH ** i;
    }
    return Number.NaN;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }

  /** Sparse form for IPC: [index, count] pairs of non-empty buckets. */
  toSparse(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) if (this.counts[i]) out.push([i, this.counts[i]!]);
    return out;
  }

  static fromSparse(pairs: readonly [number, number][]): Histogram {
    const h = new Histogram();
    for (const [i, n] of pairs) {
      h.counts[i]! += n;
      h.total += n;
    }
    return h;
  }
}
