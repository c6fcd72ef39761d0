/**
 * The delays of the last `size` live job updates this page received: from the worker's write of
 * the update (`updatedAt`, its clock) to its arrival here (this browser's clock). On one machine
 * (`npm start`) that is the whole worker → Redis → hub → browser path, to the millisecond; across
 * machines it includes their clocks' offset, and a negative difference counts as 0.
 */
export class UpdateDelays {
  private readonly values: number[] = [];
  private next = 0;
  private count = 0;

  constructor(private readonly size = 200) {}

  record(updatedAt: number, receivedAt: number): void {
    const ms = Math.max(0, receivedAt - updatedAt);
    if (!Number.isFinite(ms)) return;
    this.values[this.next] = ms;
    this.next = (this.next + 1) % this.size;
    this.count++;
  }

  /** Live updates received so far (all of them, not only the window). */
  get received(): number {
    return this.count;
  }

  /** Median and 99th percentile of the window, ms (nearest rank); undefined before the first update. */
  summary(): { p50: number; p99: number } | undefined {
    if (!this.values.length) return undefined;
    const sorted = [...this.values].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
    return { p50: at(0.5), p99: at(0.99) };
  }

  /** "Live updates: 42 received; worker → this page p50 3 ms, p99 12 ms (last 42)". */
  describe(): string {
    const s = this.summary();
    if (!s) return 'Live updates: none received yet.';
    return `Live updates: ${this.count} received; worker → this page p50 ${Math.round(s.p50)} ms, p99 ${Math.round(s.p99)} ms (last ${this.values.length}).`;
  }
}
