import * as signalR from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';

export type ProtocolName = 'json' | 'messagepack';
export const PROTOCOLS: readonly ProtocolName[] = ['json', 'messagepack'];

export type TransportName = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';
export const TRANSPORTS: readonly TransportName[] = ['WebSockets', 'ServerSentEvents', 'LongPolling'];

/**
 * Every transport and protocol pair the official client can use: Server-Sent Events carry text
 * only, so the client never picks them for MessagePack (the functional tests skip that pair too).
 */
export const TRANSPORT_PROTOCOLS: readonly (readonly [TransportName, ProtocolName])[] = TRANSPORTS.flatMap((t) =>
  PROTOCOLS.filter((p) => t !== 'ServerSentEvents' || p === 'json').map((p) => [t, p] as const),
);

export interface ConnectOptions {
  protocol?: ProtocolName;
  /** The only transport the client may use, or 'any' for the client's own choice and fallback. @defaultValue 'WebSockets' */
  transport?: TransportName | 'any';
  skipNegotiation?: boolean;
  accessTokenFactory?: () => string | Promise<string>;
  headers?: Record<string, string>;
  reconnect?: boolean | number[];
  serverTimeoutMs?: number;
  keepAliveMs?: number;
  /** `withStatefulReconnect()`, optionally with the client's buffer size in bytes. */
  statefulReconnect?: boolean | { bufferSize: number };
}

/** Builds an official `@microsoft/signalr` client, over WebSockets unless `transport` says otherwise (not started). */
export function buildClient(url: string, options: ConnectOptions = {}): signalR.HubConnection {
  const transport = options.transport ?? 'WebSockets';
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(url, {
      ...(transport === 'any' ? {} : { transport: signalR.HttpTransportType[transport] }),
      ...(options.skipNegotiation ? { skipNegotiation: true } : {}),
      ...(options.accessTokenFactory ? { accessTokenFactory: options.accessTokenFactory } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    })
    .configureLogging(signalR.LogLevel.None);
  if (options.protocol === 'messagepack') builder.withHubProtocol(new MessagePackHubProtocol());
  if (options.statefulReconnect) builder.withStatefulReconnect(options.statefulReconnect === true ? undefined : options.statefulReconnect);
  if (options.reconnect === true) builder.withAutomaticReconnect([0, 100, 500, 1000]);
  else if (Array.isArray(options.reconnect)) builder.withAutomaticReconnect(options.reconnect);
  const connection = builder.build();
  if (options.serverTimeoutMs !== undefined) connection.serverTimeoutInMilliseconds = options.serverTimeoutMs;
  if (options.keepAliveMs !== undefined) connection.keepAliveIntervalInMilliseconds = options.keepAliveMs;
  return connection;
}

/** Builds and starts a client; remember to stop it (or use `clientPool`). */
export async function connect(url: string, options: ConnectOptions = {}): Promise<signalR.HubConnection> {
  const c = buildClient(url, options);
  await c.start();
  return c;
}

/** Tracks clients so a test's `afterEach` can stop them all. */
export function clientPool() {
  const clients: signalR.HubConnection[] = [];
  return {
    async connect(url: string, options: ConnectOptions = {}): Promise<signalR.HubConnection> {
      const c = buildClient(url, options);
      clients.push(c);
      await c.start();
      return c;
    },
    track(c: signalR.HubConnection): signalR.HubConnection {
      clients.push(c);
      return c;
    },
    async stopAll(): Promise<void> {
      await Promise.allSettled(clients.splice(0).map((c) => c.stop()));
    },
  };
}

/** Resolves with the next `count` calls of client method `name` (arguments arrays). */
export function nextCalls(connection: signalR.HubConnection, name: string, count = 1, timeoutMs = 5000): Promise<unknown[][]> {
  return new Promise((resolve, reject) => {
    const calls: unknown[][] = [];
    const timer = setTimeout(() => {
      connection.off(name, handler);
      reject(new Error(`timed out waiting for ${count} '${name}' call(s); got ${calls.length}`));
    }, timeoutMs);
    const handler = (...args: unknown[]) => {
      calls.push(args);
      if (calls.length === count) {
        clearTimeout(timer);
        connection.off(name, handler);
        resolve(calls);
      }
    };
    connection.on(name, handler);
  });
}

/** Collects a server stream into an array. */
export function collectStream<T>(stream: signalR.IStreamResult<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    stream.subscribe({ next: (i) => items.push(i), complete: () => resolve(items), error: reject });
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export { signalR };
