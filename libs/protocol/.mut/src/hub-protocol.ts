import type { HubMessage } from './messages.js';

/** The transfer format a protocol needs from its transport (negotiate's `transferFormats`). */
export type TransferFormat = 'Text' | 'Binary';

/** Splits a transport byte stream into message bodies, keeping any cut-off tail. */
export interface FrameReader {
  push(chunk: Uint8Array): Uint8Array[];
  readonly bufferedBytes: number;
}

/**
 * A hub protocol: framing plus message codec. Implementations are pure and stateless; `write`
 * returns complete framed bytes that can be written to any number of sockets unchanged.
 */
export interface HubProtocol {
  /** Name used in the handshake: `json` or `messagepack`. */
  readonly name: string;
  /** Highest handshake version understood (2 = stateful reconnect capable). */
  readonly version: number;
  readonly transferFormat: TransferFormat;
  createReader(maxMessageSize: number): FrameReader;
  /** Decodes one message body (no framing). Throws SwitchboardError on malformed input. */
  parse(body: Uint8Array): HubMessage;
  /** Encodes one message with its framing. */
  write(message: HubMessage): Uint8Array;
}
