/**
 * Metrics hooks: the server calls these so an app can feed any metrics library (apps/hub uses
 * prom-client) without this package depending on one. Every callback is optional and is called
 * synchronously, some on the hot path (once per received chunk, once per batch of writes), so
 * an implementation must be cheap (counter increments) and must not throw.
 *
 * Label values are bounded: `hub` is a mapped hub's short name, `method` a method the hub defines
 * (unknown method names are never reported), `transport` and `protocol` come from fixed sets.
 */
export interface HubServerMetrics {
  /** A connection completed its handshake and joined the scale-out. */
  connectionOpened?(hub: string, transport: string, protocol: string): void;
  /** A connection that was opened ended (once per `connectionOpened`). */
  connectionClosed?(hub: string, transport: string, protocol: string, durationMs: number): void;
  /** `messages` hub messages (`bytes` bytes) arrived in one transport unit. */
  messagesReceived?(hub: string, messages: number, bytes: number): void;
  /**
   * `messages` hub messages (`bytes` bytes, handshake and Close included) were written. Writes
   * queued in one turn of the event loop are reported together, once per hub (a broadcast to N
   * connections is one call, not N).
   */
  messagesSent?(hub: string, messages: number, bytes: number): void;
  /**
   * A hub method finished: `ms` from dispatch (after waiting for its invocation slot) to its
   * completion (or the end of a stream); `ok` is false when it threw or its stream failed.
   */
  invocation?(hub: string, method: string, ms: number, ok: boolean): void;
}

/** Open hub connections of one server (handshake done), in total and by hub, transport and protocol. */
export interface ConnectionStats {
  readonly connections: number;
  readonly byHub: Readonly<Record<string, number>>;
  readonly byTransport: Readonly<Record<string, number>>;
  readonly byProtocol: Readonly<Record<string, number>>;
}
