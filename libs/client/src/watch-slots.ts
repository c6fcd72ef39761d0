/**
 * At most `limit` tasks at once; the rest wait in arrival order. The jobs hub answers a connection's
 * invocations one at a time and refuses those past its pending limit (SB_INVOCATION_LIMIT: 100 by
 * default), so a client that watches many jobs sends its watches through a few slots instead of
 * all at once, and keeps room for the application's own calls.
 */
export class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    this.#free = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/** The wait before retry `n` (0-based): 100 ms doubling to at most 2 s, with ±20% jitter so many clients do not retry in step. */
export function retryDelay(n: number, random = Math.random): number {
  const base = Math.min(2000, 100 * 2 ** Math.min(n, 5));
  return Math.round(base * (0.8 + 0.4 * random()));
}
