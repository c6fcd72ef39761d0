import { HubError } from '../hub/hub.js';

/**
 * A client-to-server stream as an AsyncIterable. Items arrive from StreamItem messages; a
 * Completion ends it (with an error when the client sent one). `onPressure(true)` fires when more
 * than `capacity` items wait, so the connection can pause reading until the method catches up.
 */
export class UploadStream<T = unknown> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void } | undefined;
  private ended = false;
  private error: Error | undefined;
  private pressured = false;

  constructor(
    private readonly capacity: number,
    private readonly onPressure: (paused: boolean) => void,
  ) {}

  push(item: T): void {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: item, done: false });
      return;
    }
    this.items.push(item);
    if (!this.pressured && this.items.length >= this.capacity) {
      this.pressured = true;
      this.onPressure(true);
    }
  }

  /** Ends the stream; an `error` text from the client surfaces as a HubError in the method. */
  complete(error?: string | Error): void {
    if (this.ended) return;
    this.ended = true;
    if (error !== undefined) this.error = typeof error === 'string' ? new HubError(error) : error;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      if (this.error) w.reject(this.error);
      else w.resolve({ value: undefined, done: true });
    }
    this.release();
  }

  private release(): void {
    if (this.pressured) {
      this.pressured = false;
      this.onPressure(false);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) {
          const item = this.items.shift() as T;
          if (this.items.length < this.capacity / 2) this.release();
          return Promise.resolve({ value: item, done: false });
        }
        if (this.ended) return this.error ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiter = { resolve, reject };
        });
      },
      return: () => {
        this.ended = true;
        this.items.length = 0;
        this.release();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
