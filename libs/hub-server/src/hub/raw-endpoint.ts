/**
 * A raw connection endpoint: negotiate and transports, but no hub protocol or handshake (the
 * official functional tests' `/echo`). Bytes in, bytes out.
 */
export interface RawConnection {
  readonly connectionId: string;
  send(data: Uint8Array, text: boolean): void;
  close(): void;
}

export interface RawConnectionHandler {
  onConnected?(connection: RawConnection): void;
  onData(connection: RawConnection, data: Uint8Array, text: boolean): void;
  onClosed?(connection: RawConnection): void;
}
