import * as signalR from '@microsoft/signalr';
import type { ConnectionParts, TransportName } from './hub-client.js';
import { reconnectDelay, DEFAULT_RECONNECT_DELAYS, type ClientOptions } from './options.js';

const TRANSPORTS: readonly TransportName[] = ['WebSockets', 'ServerSentEvents', 'LongPolling'];

/** Warnings and errors to the console, like the official default but quieter. */
const consoleLogger: signalR.ILogger = {
  log(level, message) {
    if (level >= signalR.LogLevel.Error) console.error(`[signalr] ${message}`);
    else if (level === signalR.LogLevel.Warning) console.warn(`[signalr] ${message}`);
  },
};

/**
 * Builds an official `HubConnection` (not started) with the options, and a reader of the transport
 * it selected. The official client has no public "transport in use"; it logs
 * "Selecting transport 'X'." (debug level) each time it negotiates one, so a logger in front of the
 * caller's keeps the last name seen. With `skipNegotiation` it can only be WebSockets.
 */
export function buildConnection(url: string, options: ClientOptions): ConnectionParts {
  let selected: TransportName | undefined = options.skipNegotiation ? 'WebSockets' : undefined;
  const target = options.logger ?? consoleLogger;
  const logger: signalR.ILogger = {
    log(level, message) {
      const m = /Selecting transport '(\w+)'/.exec(message);
      const name = m?.[1] as TransportName | undefined;
      if (name && TRANSPORTS.includes(name)) selected = name;
      target.log(level, message);
    },
  };
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(url, {
      transport: options.transport,
      ...(options.skipNegotiation ? { skipNegotiation: true } : {}),
      ...(options.accessTokenFactory ? { accessTokenFactory: options.accessTokenFactory } : {}),
    })
    .configureLogging(logger);
  if (options.protocol) builder.withHubProtocol(options.protocol);
  if (options.reconnectDelays !== false) {
    const delays = options.reconnectDelays ?? DEFAULT_RECONNECT_DELAYS;
    // Never gives up (never returns null): the last delay repeats until stop().
    builder.withAutomaticReconnect({ nextRetryDelayInMilliseconds: (ctx) => reconnectDelay(delays, ctx.previousRetryCount) });
  }
  return { connection: builder.build(), selectedTransport: () => selected };
}
