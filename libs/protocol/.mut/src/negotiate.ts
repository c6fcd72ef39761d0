import type { TransferFormat } from './hub-protocol.js';

/** Transport names exactly as negotiate lists them. */
export type TransportName = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

export interface AvailableTransport {
  readonly transport: TransportName;
  readonly transferFormats: TransferFormat[];
}

/** The negotiate response for `negotiateVersion=1`: a public id and a secret token. */
export interface NegotiateResponseV1 {
  readonly useStatefulReconnect?: true;
  readonly negotiateVersion: 1;
  readonly connectionId: string;
  readonly connectionToken: string;
  readonly availableTransports: AvailableTransport[];
}

/** Sends the client to another server; `accessToken` replaces the app's token for that attempt. */
export interface NegotiateRedirect {
  readonly url: string;
  readonly accessToken?: string;
}

/** A refused negotiation, still HTTP 200: the client's start() rejects with this text. */
export interface NegotiateError {
  readonly error: string;
}

export type NegotiateResponse = NegotiateResponseV1 | NegotiateRedirect | NegotiateError;

/** The transfer formats each transport can carry. SSE is text only. */
export const TRANSPORT_FORMATS: Readonly<Record<TransportName, TransferFormat[]>> = {
  WebSockets: ['Text', 'Binary'],
  ServerSentEvents: ['Text'],
  LongPolling: ['Text', 'Binary'],
};

/** Close codes: WebSocket close codes the server uses, and what they mean to the client. */
export const WebSocketCloseCode = {
  /** The hub ended the connection normally (after a Close message when there was an error). */
  Normal: 1000,
  /** The server is going away (shutdown); clients with reconnect should reconnect elsewhere. */
  GoingAway: 1001,
  /** The peer sent a frame larger than the hard frame limit. */
  TooLarge: 1009,
  /** An unexpected server failure. */
  InternalError: 1011,
} as const;
