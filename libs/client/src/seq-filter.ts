/**
 * Keeps the highest `seq` seen per job and accepts only updates above it. Every job update carries
 * a `seq` one above the previous one; a snapshot from `watch` and a live update of the same state
 * share a seq, and the live path may deliver out of order across a reconnect, so anything not above
 * the highest seen is stale or a duplicate.
 */
export class SeqFilter {
  readonly #highest = new Map<string, number>();

  /** True (and remembered) when `update.seq` is above every seq seen for its job. */
  accept(update: { readonly jobId: string; readonly seq: number }): boolean {
    const seen = this.#highest.get(update.jobId);
    if (seen !== undefined && update.seq <= seen) return false;
    this.#highest.set(update.jobId, update.seq);
    return true;
  }

  /** The highest seq accepted for the job, if any. */
  highest(jobId: string): number | undefined {
    return this.#highest.get(jobId);
  }

  forget(jobId: string): void {
    this.#highest.delete(jobId);
  }
}
