import { SwitchboardError } from '@switchboard/protocol';

interface Entry {
  readonly id: number;
  readonly bytes: Uint8Array;
}

/**
 * The bookkeeping of stateful reconnect for one connection (protocol doc section 6), without I/O
 * or timers: HubConnection feeds it and writes what it returns.
 *
 * Outbound: every trackable message (types 1-5) gets the next sequence id (1, 2, ... never reset)
 * and stays here, serialized, until the peer acknowledges it. A message is written at once while
 * the bytes sent and not yet acknowledged are below `bufferSize`; after that, messages are held
 * in order (the rest of the connection keeps working: Pings, Acks and Close are never held) and
 * written as Acks free room. While the socket is gone everything is held; on reattach the oldest
 * unacknowledged message is announced with a Sequence and every held message is written again.
 * The caller bounds what is held (`heldBytes`).
 *
 * Inbound: trackable messages are counted; one whose id is not above the latest processed is a
 * duplicate (a replay after a reattach) and is dropped. A Sequence moves the count back to the id
 * the peer will replay from; an id beyond the count is a protocol error.
 */
export class StatefulReconnect {
  /** Unacknowledged messages in id order; the first `sentCount` were written on the current socket. */
  private readonly entries: Entry[] = [];
  /** Index of the first entry still in `entries` (a queue without shifting the array each Ack). */
  private head = 0;
  private sentCount = 0;
  private sentBytes = 0;
  private held = 0;
  /** Ids given so far (the last one). */
  private lastId = 0;
  /** Highest id ever written to a socket: only those can be acknowledged. */
  private highestWritten = 0;
  private nextExpected = 1;
  private latestProcessed = 0;
  private lastAcked = 0;
  /** When the socket was lost; undefined while one is attached. */
  private lostAt: number | undefined;

  constructor(private readonly bufferSize: number) {}

  /** Bytes of messages waiting to be written (over the buffer size, or while the socket is gone). */
  get heldBytes(): number {
    return this.held;
  }

  /** Bytes of unacknowledged messages, written or held. */
  get bufferedBytes(): number {
    return this.sentBytes + this.held;
  }

  get detached(): boolean {
    return this.lostAt !== undefined;
  }

  /** Adds an outbound trackable message; true when it may be written now, false when it is held. */
  add(bytes: Uint8Array): boolean {
    const entry = { id: ++this.lastId, bytes };
    this.entries.push(entry);
    if (this.lostAt === undefined && this.head + this.sentCount === this.entries.length - 1 && this.sentBytes < this.bufferSize) {
      this.markSent(entry);
      return true;
    }
    this.held += bytes.length;
    return false;
  }

  /**
   * The peer processed every message up to `sequenceId`: frees them and returns the held messages
   * that may be written now, in order. Ids never written are not freed (a peer cannot have them).
   */
  ack(sequenceId: number): Uint8Array[] {
    const upTo = Math.min(sequenceId, this.highestWritten);
    while (this.head < this.entries.length && this.entries[this.head]!.id <= upTo) {
      const { bytes } = this.entries[this.head++]!;
      if (this.sentCount > 0) {
        this.sentCount--;
        this.sentBytes -= bytes.length;
      } else {
        this.held -= bytes.length;
      }
    }
    this.compact();
    return this.release();
  }

  /** The socket is gone: everything unacknowledged must be written again on the next one. */
  detach(now: number): void {
    if (this.lostAt !== undefined) return;
    this.lostAt = now;
    this.held += this.sentBytes;
    this.sentBytes = 0;
    this.sentCount = 0;
  }

  /** Whether the socket has been gone for longer than `timeoutMs`. */
  expired(now: number, timeoutMs: number): boolean {
    return this.lostAt !== undefined && now - this.lostAt > timeoutMs;
  }

  /**
   * A new socket took over: the Sequence id to announce first (the oldest unacknowledged message,
   * or the next id when none is) and the messages to write after it.
   */
  reattach(now: number): { sequenceId: number; replay: Uint8Array[] } {
    this.detach(now);
    this.lostAt = undefined;
    const sequenceId = this.head < this.entries.length ? this.entries[this.head]!.id : this.lastId + 1;
    return { sequenceId, replay: this.release() };
  }

  /** Counts an inbound trackable message; false when it is a duplicate to drop. */
  accept(): boolean {
    const id = this.nextExpected++;
    if (id <= this.latestProcessed) return false;
    this.latestProcessed = id;
    return true;
  }

  /** The peer's Sequence: it replays from `sequenceId` on. */
  resetSequence(sequenceId: number): void {
    if (sequenceId > this.nextExpected) {
      throw new SwitchboardError(
        'SB_PROTOCOL_INVALID_SEQUENCE',
        `Sequence ID greater than amount of messages we've received: the client announced ${sequenceId}, the server expects at most ${this.nextExpected}.`,
      );
    }
    this.nextExpected = sequenceId;
  }

  /** The id to acknowledge, when messages were processed since the last Ack; undefined otherwise. */
  takeAck(): number | undefined {
    if (this.latestProcessed === this.lastAcked) return undefined;
    return (this.lastAcked = this.latestProcessed);
  }

  private markSent(entry: Entry): void {
    this.sentCount++;
    this.sentBytes += entry.bytes.length;
    if (entry.id > this.highestWritten) this.highestWritten = entry.id;
  }

  /** Held messages that fit now, in order (none while the socket is gone). */
  private release(): Uint8Array[] {
    const out: Uint8Array[] = [];
    while (this.lostAt === undefined && this.head + this.sentCount < this.entries.length && this.sentBytes < this.bufferSize) {
      const entry = this.entries[this.head + this.sentCount]!;
      this.held -= entry.bytes.length;
      this.markSent(entry);
      out.push(entry.bytes);
    }
    return out;
  }

  /** Drops acknowledged slots once they are the larger part of the array. */
  private compact(): void {
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }
}
