import type { TransferFormat } from '@switchboard/protocol';
import { HttpInbound } from './http-inbound.js';
import type { Transport } from '../connection/transport.js';
import type { TransportReply } from '../scaleout/transport-routing.js';

const EMPTY = new Uint8Array(0);
const OCTETS = 'application/octet-stream';

/** 200 with the given bytes (empty = the poll timed out, or the first poll). */
export function pollData(body: Uint8Array): TransportReply {
  return { status: 200, body, contentType: OCTETS };
}

/** 204: the connection is over (or a newer poll replaced this one); the client stops polling. */
export const POLL_ENDED: TransportReply = { status: 204, body: EMPTY };

interface Waiter {
  readonly finish: (reply: TransportReply) => void;
}

/**
 * Long polling (server to client): outbound units wait in `pending` until a poll takes all of
 * them at once; the client sends with POSTs (HttpInbound). Whole units only, so a poll response
 * never ends inside a hub message.
 *
 * - A poll is answered at once when data is pending, else held until data arrives or
 *   `pollTimeoutMs` passes (200, empty: the client polls again).
 * - A newer poll replaces a held one; the older gets 204.
 * - After `close`, polls drain what is pending, then get 204 (`ended` becomes true).
 * - A held poll whose client went away (`signal`) is dropped without taking data.
 * - `idleSince` is when the last poll ended (undefined while one is held): the owner disposes
 *   of the connection when no poll comes for its disconnect timeout.
 */
export class LongPollingTransport extends HttpInbound implements Transport {
  readonly name = 'LongPolling' as const;
  readonly formats: readonly TransferFormat[] = ['Text', 'Binary'];
  readonly inherentKeepAlive = true;
  idleSince: number | undefined;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private waiter: Waiter | undefined;
  private closing = false;

  constructor(
    private readonly pollTimeoutMs: number,
    private readonly now: () => number,
  ) {
    super();
    this.idleSince = now();
  }

  send(data: Uint8Array): void {
    if (this.closing) return;
    this.pending.push(data);
    this.pendingBytes += data.length;
    this.answer();
  }

  /** Ends the connection's output: what is pending is still delivered, then polls get 204. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.endInbound();
    this.answer();
  }

  /** Ends at once, dropping pending output (DELETE, disposal): a held poll gets 204. */
  terminate(): void {
    this.close();
    this.pending = [];
    this.pendingBytes = 0;
    this.waiter?.finish(POLL_ENDED);
  }

  /** Closed and everything handed out: every later poll gets 204. */
  get ended(): boolean {
    return this.closing && this.pending.length === 0;
  }

  get bufferedAmount(): number {
    return this.pendingBytes;
  }

  /** Takes pending output, or waits for it up to `waitMs` (default: the poll timeout). */
  poll(signal: AbortSignal, waitMs = this.pollTimeoutMs): Promise<TransportReply> {
    // Never a held poll here: pending data or a close would have answered it already.
    if (this.pending.length || this.closing || signal.aborted) {
      this.idleSince = this.now();
      return Promise.resolve(this.pending.length && !signal.aborted ? this.take() : POLL_ENDED);
    }
    this.waiter?.finish(POLL_ENDED);
    return new Promise<TransportReply>((resolve) => {
      const timer = setTimeout(() => waiter.finish(pollData(EMPTY)), waitMs);
      const onAbort = () => waiter.finish(POLL_ENDED);
      const waiter: Waiter = {
        finish: (reply) => {
          if (this.waiter !== waiter) return;
          this.waiter = undefined;
          this.idleSince = this.now();
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve(reply);
        },
      };
      this.waiter = waiter;
      this.idleSince = undefined;
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private answer(): void {
    if (!this.waiter) return;
    if (this.pending.length) this.waiter.finish(this.take());
    else if (this.closing) this.waiter.finish(POLL_ENDED);
  }

  private take(): TransportReply {
    const body = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return pollData(body);
  }
}
