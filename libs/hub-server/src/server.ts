import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { JwtBearer, logRejections } from './http/jwt.js';
import { CorsPolicy } from './http/cors.js';
import { HubConnection, type ConnectionHost, type ConnectionInit } from './connection/connection.js';
import { HubEndpoint, statefulReconnectSettings, type HubEndpointOptions } from './hub/hub-endpoint.js';
import { hubNameOf } from './hub/hub-ref.js';
import type { HubRef } from './hub/hub-ref.js';
import type { ClientMethods } from './hub/clients.js';
import type { ConnectionRequestInfo, HubDefinition, HubUser } from './hub/hub.js';
import { parseUrl, queryParam, refuseUpgrade, routeKey, sendText } from './http/http-util.js';
import { logAcceptErrors } from './http/accept-errors.js';
import { attachHubSocket, attachRawSocket, hubSink, rawSink, reattachHubSocket } from './transports/attach.js';
import { HttpTransports, type HttpEndpoint, type HttpTransport } from './transports/http-transports.js';
import { newConnectionId } from './http/ids.js';
import { MemoryScaleOut } from './scaleout/memory-scaleout.js';
import { admission, IMPLEMENTED_TRANSPORTS, negotiate, offered, type Endpoint, type NegotiateHost } from './http/negotiate.js';
import { countOpen } from './connection/connection-stats.js';
import type { ConnectionStats } from './telemetry/metrics.js';
import { resolveOptions, type HubServerOptions, type ResolvedOptions } from './options.js';
import type { RawConnection, RawConnectionHandler } from './hub/raw-endpoint.js';

import { RequestInfo } from './http/request-info.js';
import { refusals } from './refusals.js';
import type { TokenClaims } from './http/token.js';
import { TokenGate } from './http/token-gate.js';
import type { Transport } from './connection/transport.js';
import { bounceReattach, verdictForUnheld } from './transports/websocket-reattach.js';
import { WebSocketTransport } from './transports/websocket-transport.js';
import { WebSocketAcceptor } from './transports/websocket-accept.js';

/** Methods a connection URL takes (CORS preflights), and negotiate's. */
const CONNECTION_METHODS = ['GET', 'POST', 'DELETE'] as const;
const NEGOTIATE_METHODS = ['POST'] as const;

/**
 * A SignalR-protocol server that mounts on any `node:http` server: call `handleRequest` from the
 * request listener and `handleUpgrade` from the 'upgrade' listener (or use `attach`). Each returns
 * false for paths it does not serve, so an app can route the rest.
 */
export class HubServer {
  readonly options: ResolvedOptions;
  /** Connection tokens: minting, the checks of every transport request, and the connections that ended here. */
  private readonly tokens: TokenGate;
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly connections = new Map<string, HubConnection>();
  private readonly rawConnections = new Set<WebSocket>();
  /** The `ws` server: upgrades (websocket-accept.ts). */
  private readonly webSockets: WebSocketAcceptor;
  /** Server-Sent Events and long polling (http-transports.ts). */
  private readonly http: HttpTransports;
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;
  /** Set by `stopAccepting` (and `close`): negotiate and new transports are refused with 503. */
  private draining = false;
  /** `options.authenticate`, or the built-in JWT bearer validation (`options.jwt`). */
  private readonly authenticator: HubServerOptions['authenticate'];
  private readonly cors: CorsPolicy | undefined;
  private lastFullLog = 0;
  /** What negotiate (negotiate.ts) reads of this server. */
  private readonly negotiateHost: NegotiateHost;
  /** What the WebSocket connections tell this server (one object for all of them, see ConnectionHost). */
  private readonly connectionHost: ConnectionHost = { connectionFinished: (c) => this.connectionFinished(c) };

  constructor(options: HubServerOptions) {
    this.options = resolveOptions(options);
    this.tokens = new TokenGate(this.options.secret, this.options);
    const logger = this.options.logger;
    this.authenticator = this.options.jwt
      ? new JwtBearer({ onRejected: logRejections(logger), ...this.options.jwt }).authenticate
      : this.options.authenticate;
    this.cors = this.options.cors ? new CorsPolicy(this.options.cors) : undefined;
    this.webSockets = new WebSocketAcceptor(this.options.maxMessageSize);
    const server = this;
    this.http = new HttpTransports({
      options: this.options,
      get draining() {
        return server.draining;
      },
      refuseIfFull: () => this.refuseIfFull(),
      hasWebSocket: (id) => this.connections.get(id)?.transport.name === 'WebSockets',
      hasEnded: (id) => this.tokens.hasEnded(id),
      reattachElsewhere: (id) => {
        const c = this.connections.get(id);
        if (c?.transport.name !== 'WebSockets') return 'gone';
        if (!c.resumable) return 'conflict';
        return c.reattachElsewhere() ? 'retry' : 'gone';
      },
    });
    this.negotiateHost = {
      get draining() {
        return server.draining;
      },
      refuseIfFull: () => this.refuseIfFull(),
      authenticate: (req) => this.authenticate(req),
      mint: (claims) => this.tokens.mint(claims),
      now: () => this.options.now(),
      tokenTtlMs: this.options.tokenTtlMs,
      logger,
    };
    this.heartbeat = setInterval(() => this.tick(), this.options.heartbeatIntervalMs);
    this.heartbeat.unref();
  }

  /**
   * Mounts the hub `ref` declares at its path (`/hubs/<name>`) and returns it for sends from
   * outside hub methods. `definition` must be written for the ref's client interface (it is
   * checked against it, never used to infer it), so workers using the same ref agree with it.
   */
  mapHub<C extends ClientMethods>(ref: HubRef<C>, definition: HubDefinition<NoInfer<C>>, options?: HubEndpointOptions): HubEndpoint<C>;
  /** Mounts a hub at `path` (matched case-insensitively) and returns it for sends from outside hub methods. */
  mapHub<C extends ClientMethods>(path: string, definition: HubDefinition<C>, options?: HubEndpointOptions): HubEndpoint<C>;
  mapHub<C extends ClientMethods>(at: string | HubRef<C>, definition: HubDefinition<C>, options: HubEndpointOptions = {}): HubEndpoint<C> {
    const key = routeKey(typeof at === 'string' ? at : at.path);
    const name = hubNameOf(key);
    const scaleOut = this.options.scaleOut ? this.options.scaleOut(name) : new MemoryScaleOut();
    const hub = new HubEndpoint<C>({
      name,
      path: key,
      definition,
      scaleOut,
      transports: options.transports ?? IMPLEMENTED_TRANSPORTS,
      clientResultTimeoutMs: this.options.clientResultTimeoutMs,
      statefulReconnect: statefulReconnectSettings(options),
    });
    this.addEndpoint(key, { kind: 'hub', hub, access: { requireUser: definition.requireUser === true, roles: definition.requireRoles } });
    // Other nodes forward SSE / long-polling requests for connections held here (no sticky sessions).
    hub.scaleOut.transports?.serveTransport((request) => this.http.serveForwarded(request, key));
    hub.watchBackplane(this.options.logger);
    return hub;
  }

  /** Mounts a raw (no hub protocol) connection endpoint. */
  mapConnection(path: string, handler: RawConnectionHandler, options: HubEndpointOptions = {}): void {
    const key = routeKey(path);
    this.addEndpoint(key, { kind: 'raw', path: key, handler, transports: options.transports ?? IMPLEMENTED_TRANSPORTS });
  }

  private addEndpoint(key: string, endpoint: Endpoint): void {
    if (this.endpoints.has(key)) throw new Error(`An endpoint is already mapped at '${key}'.`);
    this.endpoints.set(key, endpoint);
  }

  /**
   * Adds request and upgrade listeners to `server` for the mapped paths (others get 404), and an
   * 'error' listener that logs failed accepts and keeps the server serving (`logAcceptErrors`;
   * errors of `listen` itself, such as EADDRINUSE, stay the app's).
   */
  attach(server: Server): void {
    logAcceptErrors(server, this.options.logger);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (!this.handleRequest(req, res)) sendText(res, 404, 'Not Found');
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!this.handleUpgrade(req, socket, head)) refuseUpgrade(socket, 404, 'Not Found');
    });
  }

  /** Number of hub connections this node holds. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Open hub connections (handshake done, not closed), by hub, transport and protocol. O(connections). */
  connectionStats(): ConnectionStats {
    return countOpen(this.connections.values());
  }

  /** False once `stopAccepting` or `close` was called. */
  get accepting(): boolean {
    return !this.draining;
  }

  /**
   * The first step of a graceful shutdown: from now on negotiate answers 503 and new transports
   * (WebSocket upgrades, SSE streams and first polls) are refused with 503, so clients go to another node; connections already
   * open keep working until `close`. Idempotent.
   */
  stopAccepting(): void {
    if (this.draining) return;
    this.draining = true;
    this.options.logger.info({ connections: this.connections.size }, 'hub server: no longer accepting new connections');
  }

  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const url = parseUrl(req);
    if (!url) return false; // not a target any endpoint could have
    const key = routeKey(url.pathname);
    const direct = this.endpoints.get(key);
    if (direct) {
      if (!this.applyCors(req, res, CONNECTION_METHODS)) this.handleTransportRequest(req, res, url, direct);
      return true;
    }
    if (key.endsWith('/negotiate')) {
      const endpoint = this.endpoints.get(key.slice(0, -'/negotiate'.length) || '/');
      if (endpoint) {
        if (this.applyCors(req, res, NEGOTIATE_METHODS)) return true;
        negotiate(this.negotiateHost, req, res, url, endpoint).catch((err) => {
          this.options.logger.error({ err, path: url.pathname }, 'negotiate failed');
          sendText(res, 500, 'Negotiate failed on the server; see the server log.');
        });
        return true;
      }
    }
    return false;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = parseUrl(req);
    if (!url) return false; // not a target any endpoint could have
    const endpoint = this.endpoints.get(routeKey(url.pathname));
    if (!endpoint) return false;
    this.webSockets.guard(socket);
    this.upgrade(req, socket, head, url, endpoint).catch((err) => {
      this.options.logger.error({ err, path: url.pathname }, 'upgrade failed');
      refuseUpgrade(socket, 400, 'The WebSocket upgrade failed on the server; see the server log.');
    });
    return true;
  }

  /**
   * The user of a request, as negotiate and every transport request see it (`authenticate` or the
   * built-in JWT validation); undefined when anonymous. Host apps use it for their own routes
   * (the jobs REST API), so every entry point authenticates the same way.
   */
  async authenticate(req: IncomingMessage): Promise<HubUser | undefined> {
    if (!this.authenticator) return undefined;
    return (await this.authenticator(req)) ?? undefined;
  }

  /**
   * Applies the `cors` option to a response of any route (host apps call it for theirs, with the
   * methods the URL takes): CORS headers for a listed Origin, none for others. Answers a
   * preflight (204) and returns true; false means the caller handles the request. Does nothing
   * without the option.
   */
  applyCors(req: IncomingMessage, res: ServerResponse, methods: readonly string[]): boolean {
    return this.cors ? this.cors.apply(req, res, methods) : false;
  }

  /** Whether the node holds `maxConnections`; the refusal text when it does (logged at most once a second). */
  private refuseIfFull(): string | undefined {
    const max = this.options.maxConnections;
    if (max === undefined || this.connections.size + this.rawConnections.size < max) return undefined;
    const now = this.options.now();
    if (now - this.lastFullLog >= 1000) {
      this.lastFullLog = now;
      this.options.logger.warn({ code: 'SB_CONNECTION_LIMIT', maxConnections: max }, 'refusing new connections: this node holds maxConnections');
    }
    return refusals.full(max);
  }

  /** Non-upgrade requests at a connection URL: SSE, long polling, POST sends, DELETE (http-transports.ts). */
  private handleTransportRequest(req: IncomingMessage, res: ServerResponse, url: URL, endpoint: Endpoint): void {
    const token = queryParam(url.searchParams, 'id');
    const path = endpoint.kind === 'hub' ? endpoint.hub.path : endpoint.path;
    const claims = token ? this.tokens.open(token, path, req) : undefined;
    if (!claims) {
      req.resume();
      return token ? sendText(res, 404, refusals.noConnection) : sendText(res, 400, refusals.connectionIdRequired);
    }
    this.serveTransportRequest(req, res, url, endpoint, claims).catch((err) => {
      this.options.logger.error({ err, path }, 'transport request failed');
      sendText(res, 500, 'The transport request failed on the server; see the server log.');
    });
  }

  /** Every transport request is authenticated again and must carry the token's user (as the upgrade). */
  private async serveTransportRequest(req: IncomingMessage, res: ServerResponse, url: URL, endpoint: Endpoint, claims: TokenClaims): Promise<void> {
    const user = await this.authenticate(req);
    const refused = this.tokens.userRefusal(claims, user, endpoint, req);
    if (refused) {
      req.resume();
      return sendText(res, refused[0], refused[1]);
    }
    const target = { connectionId: claims.connectionId, tokenExpiresAt: claims.expiresAt, tokenIssuedAt: claims.issuedAt, user, info: () => new RequestInfo(req, url) };
    await this.http.handle(req, res, this.httpEndpoint(endpoint), target);
  }

  private httpEndpoint(endpoint: Endpoint): HttpEndpoint {
    const transports = offered(endpoint);
    if (endpoint.kind === 'raw') {
      return { path: endpoint.path, transports, router: undefined, open: (transport, init, _expiresAt, onEnded) => rawSink(endpoint.handler, transport, init.connectionId, onEnded) };
    }
    const hub = endpoint.hub;
    return {
      path: hub.path,
      transports,
      router: hub.scaleOut.transports,
      open: (transport: HttpTransport, init, expiresAt, onEnded) => hubSink(this.openHubConnection(hub, transport, { ...init, tokenExpiresAt: expiresAt }, onEnded)),
    };
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, endpoint: Endpoint): Promise<void> {
    if (!offered(endpoint).includes('WebSockets')) return refuseUpgrade(socket, 404, 'WebSockets is not enabled on this endpoint.');
    const path = endpoint.kind === 'hub' ? endpoint.hub.path : endpoint.path;
    if (this.cors && !this.cors.allowsUpgrade(req)) {
      this.options.logger.warn({ code: 'SB_ORIGIN_NOT_ALLOWED', path, origin: req.headers.origin, remote: req.socket.remoteAddress }, 'refused a WebSocket upgrade from an unlisted origin');
      return refuseUpgrade(socket, 403, `SB_ORIGIN_NOT_ALLOWED: pages on ${req.headers.origin} may not open WebSockets to this hub; list the origin in CORS_ORIGINS (cors.origins).`);
    }
    const token = queryParam(url.searchParams, 'id');
    const user = await this.authenticate(req);
    let connectionId: string;
    let expiresAt = this.options.now() + this.options.tokenTtlMs;
    if (token) {
      const claims = this.tokens.open(token, path, req);
      if (!claims) return refuseUpgrade(socket, 404, refusals.noConnection);
      const refused = this.tokens.userRefusal(claims, user, endpoint, req);
      if (refused) return refuseUpgrade(socket, refused[0], refused[1]);
      connectionId = claims.connectionId;
      if (this.http.has(connectionId)) return refuseUpgrade(socket, 400, refusals.changeTransports);
      const existing = this.connections.get(connectionId);
      if (existing) {
        // A stateful-reconnect reattach takes the connection over (websocket-reattach.ts); otherwise a second socket.
        if (!existing.resumable || !(existing.transport instanceof WebSocketTransport)) return refuseUpgrade(socket, 409, refusals.webSocketActive);
        const transport = existing.transport;
        return this.webSockets.accept(req, socket, head, (ws) => reattachHubSocket(ws, existing, transport));
      }
      if (this.tokens.hasEnded(connectionId)) return refuseUpgrade(socket, 404, refusals.noConnection);
      if (endpoint.kind === 'hub' && endpoint.hub.statefulReconnect) {
        const verdict = await verdictForUnheld(endpoint.hub, connectionId, claims.issuedAt, this.options);
        if (verdict.kind === 'refuse') return refuseUpgrade(socket, verdict.status, verdict.text);
        if (verdict.kind === 'bounce') return this.webSockets.accept(req, socket, head, (ws) => bounceReattach(ws, connectionId, this.options.logger));
        if (this.connections.has(connectionId)) return refuseUpgrade(socket, 409, refusals.webSocketActive);
      }
      expiresAt = claims.expiresAt;
    } else {
      // skipNegotiation: the upgrade itself creates the connection.
      const admitted = admission(endpoint, user);
      if (admitted !== 'ok') return refuseUpgrade(socket, admitted === 'forbidden' ? 403 : 401, '');
      connectionId = newConnectionId();
    }
    if (socket.destroyed) return;
    if (this.draining) return refuseUpgrade(socket, 503, refusals.draining);
    const full = this.refuseIfFull();
    if (full) return refuseUpgrade(socket, 503, full);
    // Without a token (skipNegotiation) there is nothing to refuse once the connection ended.
    const tokenExpiresAt = token !== null ? expiresAt : undefined;
    this.webSockets.accept(req, socket, head, (ws) => {
      if (endpoint.kind === 'raw') return this.attachRaw(ws, connectionId, endpoint.handler);
      this.attachHub(ws, connectionId, user, endpoint.hub, new RequestInfo(req, url), tokenExpiresAt);
    });
  }

  /** Creates and registers a hub connection over any transport; `onEnded` (HTTP transports) runs when it finished. */
  private openHubConnection(hub: HubEndpoint, transport: Transport, init: ConnectionInit, onEnded?: () => void): HubConnection {
    // WebSocket connections share the server's `connectionHost`; an HTTP one (with `onEnded`) gets its own.
    const host: ConnectionHost = onEnded ? { connectionFinished: (c) => { this.connectionFinished(c); onEnded(); } } : this.connectionHost;
    const connection = new HubConnection(hub, transport, this.options, init, host);
    this.connections.set(init.connectionId, connection);
    return connection;
  }

  /** A connection finished: it leaves the table; its token (if any: not with skipNegotiation) is refused here until it expires. */
  private connectionFinished(c: HubConnection): void {
    if (this.connections.get(c.connectionId) === c) this.connections.delete(c.connectionId);
    if (c.tokenExpiresAt !== undefined) this.tokens.end(c.connectionId, c.tokenExpiresAt);
  }

  /** `tokenExpiresAt`: opened with a connection token (until then), so a later upgrade with it may reattach (stateful reconnect). */
  private attachHub(ws: WebSocket, connectionId: string, user: HubUser | undefined, hub: HubEndpoint, request: ConnectionRequestInfo, tokenExpiresAt: number | undefined): void {
    const transport = new WebSocketTransport(ws, tokenExpiresAt !== undefined);
    const connection = this.openHubConnection(hub, transport, { connectionId, user, request, tokenExpiresAt });
    attachHubSocket(ws, connection, transport);
  }

  private attachRaw(ws: WebSocket, connectionId: string, handler: RawConnectionHandler): void {
    this.rawConnections.add(ws);
    attachRawSocket(ws, connectionId, handler, () => this.rawConnections.delete(ws));
  }

  private tick(): void {
    const now = this.options.now();
    for (const c of this.connections.values()) c.heartbeat(now);
    this.http.tick(now);
    this.tokens.prune(now);
  }

  /**
   * Stops the heartbeat and closes every connection with a Close that allows reconnecting (so
   * clients with automatic reconnect move to another node), then closes the hubs' scale-outs.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.draining = true;
    clearInterval(this.heartbeat);
    for (const c of [...this.connections.values()]) c.close({ allowReconnect: true });
    this.http.close();
    for (const ws of this.rawConnections) ws.close(1001);
    for (const e of this.endpoints.values()) if (e.kind === 'hub') await e.hub.scaleOut.close();
  }
}
