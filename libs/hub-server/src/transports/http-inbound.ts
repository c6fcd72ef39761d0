/**
 * The client-to-server half shared by Server-Sent Events and long polling: POST bodies delivered
 * to the connection one at a time, in arrival order, and held (not dropped) while the connection
 * has paused reading for upload-stream backpressure. A POST is answered only once its body was
 * delivered, so a paused connection slows its client down instead of buffering without limit
 * (ASP.NET awaits its pipe the same way).
 */
export abstract class HttpInbound {
  /** Receives each delivered body; set by whoever owns the connection. */
  receiver: ((chunk: Uint8Array, text: boolean) => void) | undefined;
  private paused = false;
  private inboundEnded = false;
  private waiters: (() => void)[] = [];
  private chain: Promise<unknown> = Promise.resolve();

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake();
  }

  /** Resolves true once the body was handed to the receiver, false when the transport ended first. */
  deliver(body: Uint8Array, text: boolean): Promise<boolean> {
    const run = async (): Promise<boolean> => {
      while (this.paused && !this.inboundEnded) await new Promise<void>((resolve) => this.waiters.push(resolve));
      if (this.inboundEnded) return false;
      this.receiver?.(body, text);
      return true;
    };
    const next = this.chain.then(run);
    this.chain = next.catch(() => {});
    return next;
  }

  /** Whether POST bodies are still accepted. */
  get acceptsInput(): boolean {
    return !this.inboundEnded;
  }

  /** Refuses later bodies and releases POSTs waiting on a pause (they answer 404). */
  protected endInbound(): void {
    this.inboundEnded = true;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
