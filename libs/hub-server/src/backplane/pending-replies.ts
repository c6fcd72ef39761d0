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

/**
 * Requests answered by every node that hears them (a group count: one Reply per node holding
 * members). How many answers to wait for is known only once the publish returns its receiver
 * count, which may be after the first answers arrived. Ids start with `n` so they never collide
 * with PendingReplies' numeric ones on the same reply channel.
 */
export class PendingSums {
  private readonly pending = new Map<string, { sum: number; got: number; want: number; resolve: (n: number) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private counter = 0;

  /** A new request id, the promise of the sum, and `expect(receivers)` to call with the publish's receiver count. */
  open(timeoutMs: number, what: string): { id: string; result: Promise<number>; expect: (answers: number) => void } {
    const id = `n${++this.counter}`;
    const result = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        const p = this.pending.get(id);
        this.pending.delete(id);
        reject(new SwitchboardError('SB_BACKPLANE_TIMEOUT', `Not every hub node answered ${what} within ${timeoutMs} ms (${p?.got ?? 0} of ${p && p.want >= 0 ? p.want : '?'}); a node may be down or overloaded.`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { sum: 0, got: 0, want: -1, resolve, reject, timer });
    });
    result.catch(() => {}); // handled by the caller
    return { id, result, expect: (answers) => this.expect(id, answers) };
  }

  /** An answer to request `id`; false when `id` is not one of these (a PendingReplies id). */
  add(id: string, ok: boolean, value: unknown): boolean {
    const p = this.pending.get(id);
    if (!p) return id.startsWith('n');
    p.got++;
    if (ok && typeof value === 'number' && Number.isFinite(value)) p.sum += value;
    this.finishIfDone(id);
    return true;
  }

  /** Forgets a request whose publish failed. */
  drop(id: string): void {
    const p = this.pending.get(id);
    if (p) clearTimeout(p.timer);
    this.pending.delete(id);
  }

  rejectAll(error: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(error);
      this.pending.delete(id);
    }
  }

  private expect(id: string, answers: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    p.want = answers;
    this.finishIfDone(id);
  }

  private finishIfDone(id: string): void {
    const p = this.pending.get(id)!;
    if (p.want < 0 || p.got < p.want) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(p.sum);
  }
}

function replyError(value: unknown, code: string | undefined): Error {
  const message = typeof value === 'string' ? value : 'The remote node reported an error.';
  return code && code in ERROR_CODES ? new SwitchboardError(code as ErrorCode, message) : new Error(message);
}
