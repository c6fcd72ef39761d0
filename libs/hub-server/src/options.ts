import type { IncomingMessage } from 'node:http';
import { SwitchboardError, type HubProtocol, jsonHubProtocol, messagePackHubProtocol } from '@switchboard/protocol';
import type { JwtBearerOptions } from './http/jwt.js';
import type { CorsOptions } from './http/cors.js';
import type { HubUser } from './hub/hub.js';
import { jsonLogger, type Logger } from './telemetry/logger.js';
import type { HubServerMetrics } from './telemetry/metrics.js';
import type { ScaleOutFactory } from './scaleout/scaleout.js';

export interface HubServerOptions {
  /**
   * Shared secret for connection tokens (HUB_SECRET). Every node that should accept another's
   * tokens needs the same value. At least 16 bytes; 32 random bytes recommended.
   */
  secret: string | Uint8Array;
  /** Largest incoming hub message (and handshake) in bytes. @defaultValue 32768 */
  maxMessageSize?: number;
  /** Time allowed for the handshake after the transport opens. @defaultValue 15000 */
  handshakeTimeoutMs?: number;
  /** The server sends a Ping after this long without sending anything. @defaultValue 15000 */
  keepAliveIntervalMs?: number;
  /** Close a connection that sent nothing for this long (armed after its first Ping). @defaultValue 30000 */
  clientTimeoutMs?: number;
  /** How long a client-result invocation waits for the client's answer. @defaultValue 30000 */
  clientResultTimeoutMs?: number;
  /** Lifetime of a connection token, from negotiate to the last transport request. @defaultValue 86400000 (24 h) */
  tokenTtlMs?: number;
  /** Invocations of one connection that run at once (streams and uploads run beside them). @defaultValue 1 */
  maxParallelInvocations?: number;
  /**
   * Invocations of one connection (of any kind) that may be in flight beyond
   * `maxParallelInvocations`: waiting for a slot, or streams and uploads running. Further ones get
   * an error Completion (`SB_INVOCATION_LIMIT`) at once instead of queueing without bound.
   * @defaultValue 100
   */
  maxPendingInvocations?: number;
  /**
   * Hub connections (and raw WebSockets) this node holds at most. When full, negotiate, WebSocket
   * upgrades and first SSE / long-polling requests answer 503 (`SB_CONNECTION_LIMIT`) until some
   * close. @defaultValue no limit
   */
  maxConnections?: number;
  /** Upload stream items buffered before the connection's reads pause. @defaultValue 100 */
  streamBufferCapacity?: number;
  /**
   * Write coalescing under load: the most a message may be held back so that it leaves in one
   * frame (one socket write) with the connection's next messages. While the process keeps up
   * nothing is held back; when its event loop is saturated or waits for a core, each connection
   * is written at most once per an interval that rises up to this value (write-load.ts), which
   * keeps a busy node out of saturation (see bench/README.md). Answers to the client's own
   * invocations, output after a quiet spell and 16 KB of queued output are never held. 0 turns
   * coalescing off: output leaves at the end of every event-loop turn.
   * @defaultValue 12
   */
  maxWriteDelayMs?: number;
  /** Outbound bytes buffered for a slow client before it is closed (with reconnect allowed). @defaultValue 4194304 */
  maxBufferedBytes?: number;
  /** A long poll with nothing to send is answered (200, empty) after this long; the client polls again. @defaultValue 90000 */
  longPollTimeoutMs?: number;
  /**
   * A Server-Sent Events or long-polling connection with no open stream or poll for this long
   * (between polls, or after its first request) is disposed, and its hub's onDisconnected runs.
   * @defaultValue 15000
   */
  disconnectTimeoutMs?: number;
  /** Send exception type and message to clients for unexpected errors. @defaultValue false */
  detailedErrors?: boolean;
  /** Resolves the user of an HTTP request (negotiate, upgrade, every transport request). Not with `jwt`. */
  authenticate?: (request: IncomingMessage) => HubUser | undefined | null | Promise<HubUser | undefined | null>;
  /** Built-in JWT bearer validation (see JwtBearerOptions); the user comes from the token's claims. Not with `authenticate`. */
  jwt?: JwtBearerOptions;
  /** Allow browsers on these origins (with credentials); without it no CORS headers are sent. */
  cors?: CorsOptions;
  /** Creates the scale-out per hub. @defaultValue one MemoryScaleOut per hub */
  scaleOut?: ScaleOutFactory;
  /** Hub protocols offered. @defaultValue json and messagepack */
  protocols?: readonly HubProtocol[];
  logger?: Logger;
  /** Metrics hooks (connections, messages, invocations); see HubServerMetrics. @defaultValue none */
  metrics?: HubServerMetrics;
  /** Clock, injectable for tests. @defaultValue Date.now */
  now?: () => number;
  /** Period of the heartbeat that runs keep-alive and timeouts. @defaultValue 1000 */
  heartbeatIntervalMs?: number;
}

export type ResolvedOptions = Required<Omit<HubServerOptions, 'authenticate' | 'scaleOut' | 'metrics' | 'jwt' | 'cors' | 'maxConnections'>> &
  Pick<HubServerOptions, 'authenticate' | 'scaleOut' | 'metrics' | 'jwt' | 'cors' | 'maxConnections'>;

export const HUB_SERVER_DEFAULTS = {
  maxMessageSize: 32 * 1024,
  handshakeTimeoutMs: 15_000,
  keepAliveIntervalMs: 15_000,
  clientTimeoutMs: 30_000,
  clientResultTimeoutMs: 30_000,
  tokenTtlMs: 24 * 60 * 60 * 1000,
  maxParallelInvocations: 1,
  maxPendingInvocations: 100,
  streamBufferCapacity: 100,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxWriteDelayMs: 12,
  longPollTimeoutMs: 90_000,
  disconnectTimeoutMs: 15_000,
  detailedErrors: false,
  heartbeatIntervalMs: 1000,
} as const;

const POSITIVE_INTEGERS = [
  'maxMessageSize',
  'handshakeTimeoutMs',
  'keepAliveIntervalMs',
  'clientTimeoutMs',
  'clientResultTimeoutMs',
  'tokenTtlMs',
  'maxParallelInvocations',
  'maxPendingInvocations',
  'streamBufferCapacity',
  'maxBufferedBytes',
  'longPollTimeoutMs',
  'disconnectTimeoutMs',
  'heartbeatIntervalMs',
] as const;

/** Applies defaults and validates; messages name the option and say what is accepted. */
export function resolveOptions(options: HubServerOptions): ResolvedOptions {
  if (options.secret === undefined || options.secret === null || options.secret === '') {
    throw new SwitchboardError('SB_CONFIG_INVALID', 'secret is required: pass the shared HUB_SECRET (at least 16 bytes) that all hub nodes use.');
  }
  const resolved = {
    ...HUB_SERVER_DEFAULTS,
    protocols: [jsonHubProtocol, messagePackHubProtocol],
    logger: jsonLogger('info'),
    now: Date.now,
    ...stripUndefined(options),
  } as ResolvedOptions;
  for (const key of POSITIVE_INTEGERS) {
    const v = resolved[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new SwitchboardError('SB_CONFIG_INVALID', `${key} must be a positive integer, got ${JSON.stringify(v)}.`);
    }
  }
  if (typeof resolved.maxWriteDelayMs !== 'number' || !Number.isInteger(resolved.maxWriteDelayMs) || resolved.maxWriteDelayMs < 0 || resolved.maxWriteDelayMs > 1000) {
    throw new SwitchboardError('SB_CONFIG_INVALID', `maxWriteDelayMs must be an integer from 0 (write at the end of every turn) to 1000, got ${JSON.stringify(resolved.maxWriteDelayMs)}.`);
  }
  if (resolved.clientTimeoutMs <= resolved.keepAliveIntervalMs) {
    throw new SwitchboardError('SB_CONFIG_INVALID', `clientTimeoutMs (${resolved.clientTimeoutMs}) must be larger than keepAliveIntervalMs (${resolved.keepAliveIntervalMs}); twice as large is usual.`);
  }
  if (resolved.metrics !== undefined && (typeof resolved.metrics !== 'object' || resolved.metrics === null)) {
    throw new SwitchboardError('SB_CONFIG_INVALID', 'metrics must be an object of optional callbacks (connectionOpened, connectionClosed, messagesReceived, messagesSent, invocation).');
  }
  if (resolved.maxConnections !== undefined && (!Number.isInteger(resolved.maxConnections) || resolved.maxConnections <= 0)) {
    throw new SwitchboardError('SB_CONFIG_INVALID', `maxConnections must be a positive integer (or left out for no limit), got ${JSON.stringify(resolved.maxConnections)}.`);
  }
  if (resolved.jwt !== undefined && resolved.authenticate !== undefined) {
    throw new SwitchboardError('SB_CONFIG_INVALID', 'authenticate and jwt cannot both be set: jwt is a built-in authenticate. Pass one of them.');
  }
  if (!resolved.protocols.length) throw new SwitchboardError('SB_CONFIG_INVALID', 'protocols must list at least one hub protocol.');
  return resolved;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
