import { ERROR_CODES, SwitchboardError, type ErrorCode } from '@switchboard/protocol';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/**
 * Requests waiting for an answer, each under a prefixed id: those a scale-out sent to another node
 * (group changes, client results, forwarded transport requests) waiting for their Reply envelope,
 * and a connection's own client results waiting for the client's Completion (ClientResults). Each
 * settles exactly once: by its answer (`settle`), its timeout, or `rejectAll`.
 */
export class PendingReplies {
  private readonly pending = new Map<string, Pending>();
  private counter = 0;

  /** `prefix` starts every id, so two of these can share a reply channel (PendingSums uses `n`). */
  constructor(private readonly prefix = '') {}

  /**
   * A new request id and the promise of its reply. When the timeout fires, `timedOut` gives the
   * error: a string is the message of an SB_BACKPLANE_TIMEOUT, an Error is used as it is.
   */
  open(timeoutMs: number, timedOut: () => string | Error): { id: string; result: Promise<unknown> } {
    const id = `${this.prefix}${++this.counter}`;
    const result = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        const error = timedOut();
        reject(typeof error === 'string' ? new SwitchboardError('SB_BACKPLANE_TIMEOUT', error) : error);
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
 * members), on top of PendingReplies (ids start with `n`, so they never collide with the
 * scale-out's other requests on the same reply channel). How many answers to wait for is known
 * only once the publish returns its receiver count, which may be after the first answers arrived.
 */
export class PendingSums {
  private readonly replies = new PendingReplies('n');
  private readonly tallies = new Map<string, { sum: number; got: number; want: number }>();

  /** A new request id, the promise of the sum, and `expect(receivers)` to call with the publish's receiver count. */
  open(timeoutMs: number, what: string): { id: string; result: Promise<number>; expect: (answers: number) => void } {
    const tally = { sum: 0, got: 0, want: -1 };
    const { id, result } = this.replies.open(timeoutMs, () => {
      this.tallies.delete(id);
      return `Not every hub node answered ${what} within ${timeoutMs} ms (${tally.got} of ${tally.want >= 0 ? tally.want : '?'}); a node may be down or overloaded.`;
    });
    this.tallies.set(id, tally);
    const expect = (answers: number) => {
      tally.want = answers;
      this.finishIfDone(id);
    };
    return { id, result: result as Promise<number>, expect };
  }

  /** An answer to request `id`; false when `id` is not one of these (a PendingReplies id). */
  add(id: string, ok: boolean, value: unknown): boolean {
    const tally = this.tallies.get(id);
    if (!tally) return id.startsWith('n');
    tally.got++;
    if (ok && typeof value === 'number' && Number.isFinite(value)) tally.sum += value;
    this.finishIfDone(id);
    return true;
  }

  /** Forgets a request whose publish failed. */
  drop(id: string): void {
    this.tallies.delete(id);
    this.replies.drop(id);
  }

  rejectAll(error: Error): void {
    this.tallies.clear();
    this.replies.rejectAll(error);
  }

  private finishIfDone(id: string): void {
    const tally = this.tallies.get(id);
    if (!tally || tally.want < 0 || tally.got < tally.want) return;
    this.tallies.delete(id);
    this.replies.settle(id, tally.sum, undefined);
  }
}

function replyError(value: unknown, code: string | undefined): Error {
  const message = typeof value === 'string' ? value : 'The remote node reported an error.';
  return code && code in ERROR_CODES ? new SwitchboardError(code as ErrorCode, message) : new Error(message);
}
