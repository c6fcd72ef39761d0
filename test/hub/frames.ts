import { BinaryFrameReader, messagePackHubProtocol } from '@switchboard/protocol';

/** The record separator that ends every JSON hub message and the handshake reply. */
export const RS = '\u001e';

/** A decoded hub message (JSON object, or the MessagePack message as the protocol lib reads it). */
export type Message = Record<string, unknown> & { type: number };

/**
 * The one frame consumer of the hand-made test clients (raw-client.ts over WebSockets,
 * http-client.ts over long polling): splits the bytes a server sends into the handshake reply
 * (JSON, up to its record separator) and the hub messages after it, JSON records or varint-framed
 * MessagePack, whatever the chunk boundaries.
 */
export class FrameConsumer {
  readonly messages: Message[] = [];
  /** The handshake reply with its separator; '' when none is expected (a stateful-reconnect reattach). */
  handshakeReply: string | undefined;
  private pending = Buffer.alloc(0);
  private binaryReader: BinaryFrameReader | undefined;

  constructor(public protocol: 'json' | 'messagepack' = 'json') {}

  /** Feeds received bytes; throws on a message that does not parse. */
  consume(data: Buffer): void {
    this.pending = Buffer.concat([this.pending, data]);
    if (this.handshakeReply === undefined) {
      const end = this.pending.indexOf(0x1e);
      if (end < 0) return;
      this.handshakeReply = this.pending.subarray(0, end + 1).toString('utf8');
      this.pending = this.pending.subarray(end + 1);
    }
    if (this.protocol === 'json') {
      for (let end = this.pending.indexOf(0x1e); end >= 0; end = this.pending.indexOf(0x1e)) {
        this.messages.push(JSON.parse(this.pending.subarray(0, end).toString('utf8')) as Message);
        this.pending = this.pending.subarray(end + 1);
      }
    } else {
      this.binaryReader ??= new BinaryFrameReader(16 * 1024 * 1024);
      const chunk = this.pending;
      this.pending = Buffer.alloc(0);
      for (const body of this.binaryReader.push(chunk)) this.messages.push(messagePackHubProtocol.parse(body) as unknown as Message);
    }
  }
}
