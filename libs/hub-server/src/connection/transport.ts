import type { TransferFormat, TransportName } from '@switchboard/protocol';

/**
 * The byte pipe under a connection. A transport delivers whole units it received and sends whole
 * units; framing and the hub protocol live above it.
 */
export interface Transport {
  readonly name: TransportName;
  readonly formats: readonly TransferFormat[];
  /** The transport keeps itself alive (long polling): the connection sends no Pings and has no client timeout. */
  readonly inherentKeepAlive?: boolean;
  /** A lost socket can be replaced by a reattach (a WebSocket opened with a token): stateful reconnect is possible. */
  readonly resumable?: boolean;
  /** Sends one unit; `text` selects a text frame (JSON) over a binary one (MessagePack). */
  send(data: Uint8Array, text: boolean): void;
  /** Ends the transport after what was sent is flushed. */
  close(code: number, reason?: string): void;
  /** Bytes accepted by `send` but not yet written to the network. */
  readonly bufferedAmount: number;
  /** Stops delivering received units (backpressure from upload streams). */
  pause(): void;
  resume(): void;
}
