/** A FIFO counting semaphore: waiters run in arrival order, which keeps invocations ordered. */
export class Semaphore {
  /** Created when the first caller has to wait (most never do). */
  private waiters: (() => void)[] | undefined;

  constructor(private available: number) {}

  /** No permit taken and nobody waiting: the semaphore is as new. */
  isIdle(permits: number): boolean {
    return this.available === permits && !this.waiters?.length;
  }

  acquire(): Promise<void> | undefined {
    if (this.available > 0) {
      this.available--;
      return undefined;
    }
    return new Promise((resolve) => (this.waiters ??= []).push(resolve));
  }

  release(): void {
    const next = this.waiters?.shift();
    if (next) next();
    else this.available++;
  }
}
