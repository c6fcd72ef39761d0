import { ERROR_CODES, SwitchboardError, type ErrorCode } from '@switchboard/protocol';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/**
 * Requests a scale-out sent to another node (group changes, client results, forwarded transport
 * requests), waiting for their Reply envelope: each settles once, by its reply, its timeout
 * (SB_BACKPLANE_TIMEOUT) or `rejectAll`.
 */
export class PendingReplies {
  private readonly pending = new Map<string, Pending>();
  private counter = 0;

  /** A new request id and the promise of its reply; `what` names the request in the timeout error. */
  open(timeoutMs: number, what: string): { id: string; result: Promise<unknown> } {
    const id = `${++this.counter}`;
    const result = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SwitchboardError('SB_BACKPLANE_TIMEOUT', `No hub node answered ${what} within ${timeoutMs} ms; the node holding the connection may be down or overloaded.`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
    });
    result.catch(() => {}); // handled by the caller; avoids an unhandled rejection on early exits
    return { id, result };
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  /** Forgets a request whose publish failed (its promise is never settled: the caller throws instead). */
  drop(id: string): void {
    const p = this.pending.get(id);
    if (p) clearTimeout(p.timer);
    this.pending.delete(id);
  }

  settle(id: string, value: unknown, error: Error | undefined): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (error) p.reject(error);
    else p.resolve(value);
  }

  /** A Reply envelope: its value, or an error from its text and code (a SwitchboardError for a known code). */
  settleReply(id: string, ok: boolean, value: unknown, code: string | undefined): void {
    this.settle(id, value, ok ? undefined : replyError(value, code));
  }

  rejectAll(error: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(error);
      this.pending.delete(id);
    }
  }
}

function replyError(value: unknown, code: string | undefined): Error {
  const message = typeof value === 'string' ? value : 'The remote node reported an error.';
  return code && code in ERROR_CODES ? new SwitchboardError(code as ErrorCode, message) : new Error(message);
}
