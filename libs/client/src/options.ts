import type { HttpTransportType, IHubProtocol, ILogger } from '@microsoft/signalr';

/** Options of every `connect*` function. */
export interface ClientOptions {
  /**
   * Returns the bearer token for negotiate and the WebSocket (`access_token`); called on every
   * (re)connect, so it can refresh. Passed to the official client as is.
   */
  accessTokenFactory?: () => string | Promise<string>;
  /** The hub protocol, e.g. `new MessagePackHubProtocol()`. @defaultValue the official client's JSON protocol */
  protocol?: IHubProtocol;
  /** Allowed transports, a `HttpTransportType` bit mask. @defaultValue all the client supports, tried in the order WebSockets, Server-Sent Events, long polling */
  transport?: HttpTransportType;
  /** Skip negotiate and open a WebSocket at once; needs `transport: HttpTransportType.WebSockets`. @defaultValue false */
  skipNegotiation?: boolean;
  /**
   * Delays in ms before reconnect attempt 1, 2, ... after a lost connection; the last one repeats
   * until `stop()` (a delay above 0 gets up to 20% random jitter, so clients of a dead node do not
   * all return at once). `false` turns automatic reconnect off.
   * @defaultValue [0, 1000, 2000, 5000]
   */
  reconnectDelays?: readonly number[] | false;
  /**
   * Also retry, with the same delays, when the first start fails or the server closes the
   * connection without allowing a reconnect. The official client only reconnects a connection that
   * was up; a page that must come back by itself (a dashboard) wants this.
   * @defaultValue false
   */
  persistent?: boolean;
  /** The hub's path below the base URL. @defaultValue the hub's standard path, e.g. `/hubs/jobs` */
  path?: string;
  /** Receives the official client's log lines (all levels). @defaultValue warnings and errors to the console */
  logger?: ILogger;
}

export const DEFAULT_RECONNECT_DELAYS: readonly number[] = [0, 1000, 2000, 5000];

/** Checks options at construction; messages name the option. */
export function validateOptions(options: ClientOptions): void {
  const { reconnectDelays, accessTokenFactory, skipNegotiation, transport, path } = options;
  if (reconnectDelays !== undefined && reconnectDelays !== false) {
    if (!Array.isArray(reconnectDelays) || reconnectDelays.length === 0) {
      throw new TypeError('reconnectDelays must be a non-empty array of milliseconds (or false to turn reconnect off).');
    }
    for (const d of reconnectDelays) {
      if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) throw new TypeError(`reconnectDelays must hold finite numbers >= 0; got ${String(d)}.`);
    }
  }
  if (accessTokenFactory !== undefined && typeof accessTokenFactory !== 'function') {
    throw new TypeError('accessTokenFactory must be a function returning the token (or a promise of it).');
  }
  // HttpTransportType.WebSockets is 1; compared by value so this file needs no runtime import.
  if (skipNegotiation && transport !== 1) {
    throw new TypeError('skipNegotiation needs transport: HttpTransportType.WebSockets (negotiate can only be skipped for WebSockets).');
  }
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/'))) {
    throw new TypeError(`path must start with '/', e.g. '/hubs/jobs'; got ${JSON.stringify(path)}.`);
  }
}

/** The delay before reconnect attempt `attempt + 1` (`attempt` failed tries so far). */
export function reconnectDelay(delays: readonly number[], attempt: number, random: () => number = Math.random): number {
  const base = delays[Math.min(attempt, delays.length - 1)] ?? 0;
  return base === 0 ? 0 : Math.round(base * (1 + 0.2 * random()));
}

/** Joins a base URL ('' or '/' for the page's own origin, or `http://host:port[/prefix]`) and a hub path. */
export function hubUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}
