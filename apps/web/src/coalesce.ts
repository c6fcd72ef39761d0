/**
 * Runs `run` when asked, but never two at once and never two starts closer than `minIntervalMs`:
 * asks that arrive meanwhile fold into one more run after the current one. So however fast
 * `jobListChanged` pushes come (or jobs change), the operator's view re-reads its page and
 * re-renders at most 1000 / minIntervalMs times a second, and the last change is always read.
 */
export class Coalescer {
  #pending = false;
  #running = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastStart = Number.NEGATIVE_INFINITY;
  #disposed = false;
  #runs = 0;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly minIntervalMs = 100,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** How many times `run` has started. */
  get runs(): number {
    return this.#runs;
  }

  request(): void {
    this.#pending = true;
    this.#pump();
  }

  dispose(): void {
    this.#disposed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #pump(): void {
    if (!this.#pending || this.#running || this.#timer !== undefined || this.#disposed) return;
    const wait = this.#lastStart + this.minIntervalMs - this.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, wait);
      return;
    }
    this.#pending = false;
    this.#running = true;
    this.#lastStart = this.now();
    this.#runs++;
    let done: Promise<void>;
    try {
      done = this.run();
    } catch (err) {
      done = Promise.reject(err);
    }
    // A failed run is the caller's to report (it renders its own error); the next ask runs again.
    done.catch(() => {}).finally(() => {
      this.#running = false;
      this.#pump();
    });
  }
}
