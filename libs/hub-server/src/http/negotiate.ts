import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRANSPORT_FORMATS, type NegotiateResponseV1, type TransportName } from '@switchboard/protocol';
import { admit, type AccessRule, type Admission } from '../hub/access.js';
import type { HubEndpoint } from '../hub/hub-endpoint.js';
import type { HubUser } from '../hub/hub.js';
import { queryParam, sendJson, sendText } from './http-util.js';
import { newConnectionId } from './ids.js';
import type { Logger } from '../telemetry/logger.js';
import type { RawConnectionHandler } from '../hub/raw-endpoint.js';
import type { TokenClaims } from './token.js';
import { refusals } from '../refusals.js';

/** Transports this server implements, in the order negotiate offers them. */
export const IMPLEMENTED_TRANSPORTS: readonly TransportName[] = ['WebSockets', 'ServerSentEvents', 'LongPolling'];

/** What is mounted at a path: a hub, or a raw (no hub protocol) connection handler. */
/**
 * A mapped path. A hub endpoint is held whatever its client interface: connections call its
 * handlers with contexts whose client proxies serve any method name, which suits every `C`; the
 * type checker cannot know that (a handler is contravariant in its context, so a
 * `HubEndpoint<Chat>` is no `HubEndpoint<object>`), hence `HubEndpoint<any>` here rather than a
 * cast where it is mapped.
 */
export type Endpoint =
  // biome-ignore lint: see above; the one place a hub's client interface is erased.
  | { kind: 'hub'; hub: HubEndpoint<any>; access: AccessRule }
  | { kind: 'raw'; path: string; handler: RawConnectionHandler; transports: readonly TransportName[] };

/** Whether `user` may connect to `endpoint` (raw endpoints have no rule). */
export function admission(endpoint: Endpoint, user: HubUser | undefined): Admission {
  return endpoint.kind === 'hub' ? admit(endpoint.access, user) : 'ok';
}

/** The transports an endpoint allows that this server implements, in negotiate's order. */
export function offered(endpoint: Endpoint): TransportName[] {
  const allowed = endpoint.kind === 'hub' ? endpoint.hub.transports : endpoint.transports;
  return allowed.filter((t) => IMPLEMENTED_TRANSPORTS.includes(t));
}

/** What negotiate needs of the server it runs in. */
export interface NegotiateHost {
  /** Shutting down: no new connections. */
  readonly draining: boolean;
  /** The refusal text when the node holds `maxConnections`. */
  refuseIfFull(): string | undefined;
  authenticate(req: IncomingMessage): Promise<HubUser | undefined>;
  /** Mints the connection token for these claims. */
  mint(claims: TokenClaims): string;
  now(): number;
  readonly tokenTtlMs: number;
  readonly logger: Logger;
}

/**
 * POST {path}/negotiate (signalr-protocol.md 1.2): version 1 only (older clients get the
 * protocol's `error` answer), the user checked against the hub's access rule (401 / 403 with an
 * empty body, as ASP.NET), then a new connection id, its protected token (bound to the user,
 * expiring) and the transports offered.
 */
export async function negotiate(host: NegotiateHost, req: IncomingMessage, res: ServerResponse, url: URL, endpoint: Endpoint): Promise<void> {
  if (req.method !== 'POST') return sendText(res, 405, 'Negotiate must be a POST request.', { Allow: 'POST' });
  req.resume();
  if (host.draining) return sendText(res, 503, refusals.draining);
  const rawVersion = queryParam(url.searchParams, 'negotiateVersion');
  const version = rawVersion === null ? 0 : Number(rawVersion);
  if (!Number.isInteger(version)) return sendText(res, 400, 'Invalid negotiateVersion: it must be an integer.');
  if (version < 1) {
    return sendJson(res, 200, { error: `The client requested version '${version}', but the server does not support this version. Use a SignalR client that sends negotiateVersion=1 (any client from ASP.NET Core 3.0 on).` });
  }
  const full = host.refuseIfFull();
  if (full) return sendText(res, 503, full);
  const user = await host.authenticate(req);
  const admitted = admission(endpoint, user);
  if (admitted !== 'ok') {
    // An empty body: the official client then reports exactly `Unauthorized: Status code '401'` (or Forbidden, 403).
    host.logger.info({ path: url.pathname, user: user?.id, remote: req.socket.remoteAddress }, `refused negotiate: ${admitted === 'forbidden' ? 'the user lacks the required role' : 'no valid access token'}`);
    res.writeHead(admitted === 'forbidden' ? 403 : 401, { 'Content-Length': 0, ...(admitted === 'unauthenticated' ? { 'WWW-Authenticate': 'Bearer' } : {}) });
    return void res.end();
  }
  const transports = offered(endpoint);
  if (!transports.length) {
    const allowed = (endpoint.kind === 'hub' ? endpoint.hub.transports : endpoint.transports).join(', ');
    return sendJson(res, 200, {
      error: `None of the transports this endpoint allows (${allowed}) is available on this server yet; it implements ${IMPLEMENTED_TRANSPORTS.join(', ')}.`,
    });
  }
  const connectionId = newConnectionId();
  const path = endpoint.kind === 'hub' ? endpoint.hub.path : endpoint.path;
  const now = host.now();
  const connectionToken = host.mint({ connectionId, endpoint: path, userId: user?.id ?? null, expiresAt: now + host.tokenTtlMs, issuedAt: now });
  // Granted only where the endpoint allows it and the client asked (ASP.NET writes it first).
  const stateful = endpoint.kind === 'hub' && endpoint.hub.statefulReconnect !== undefined && queryParam(url.searchParams, 'useStatefulReconnect')?.toLowerCase() === 'true';
  const body: NegotiateResponseV1 = {
    ...(stateful ? { useStatefulReconnect: true as const } : {}),
    negotiateVersion: 1,
    connectionId,
    connectionToken,
    availableTransports: transports.map((transport) => ({ transport, transferFormats: [...TRANSPORT_FORMATS[transport]] })),
  };
  sendJson(res, 200, body);
}
