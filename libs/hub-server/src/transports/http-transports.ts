import type { IncomingMessage, ServerResponse } from 'node:http';
import { SwitchboardError, isSwitchboardError, type TransportName } from '@switchboard/protocol';
import type { ConnectionRequestInfo, HubUser } from '../hub/hub.js';
import { readBody, sendText } from '../http/http-util.js';
import type { SessionSink } from './attach.js';
import { LongPollingTransport, pollData } from './long-polling-transport.js';
import type { ResolvedOptions } from '../options.js';
import { SseTransport } from './sse-transport.js';
import { refusals } from '../refusals.js';
import { TransportOp, type ForwardedRequest, type TransportReply, type TransportRouter } from '../scaleout/transport-routing.js';

export type HttpTransport = SseTransport | LongPollingTransport;

/** A mapped endpoint as the HTTP transports see it. */
export interface HttpEndpoint {
  /** Lower-cased path; a forwarded request is served only by sessions of the same path. */
  readonly path: string;
  /** Transports offered here (an SSE or long-polling connection is created only if offered). */
  readonly transports: readonly TransportName[];
  /** Carries requests to the node holding a connection; undefined = one node. */
  readonly router: TransportRouter | undefined;
  /** Opens the connection over a new transport; `onEnded` runs once, however it ends. */
  open(transport: HttpTransport, init: { connectionId: string; user: HubUser | undefined; request: ConnectionRequestInfo }, tokenExpiresAt: number, onEnded: () => void): SessionSink;
}

/** What the HTTP transports need from the HubServer. */
export interface HttpTransportHost {
  readonly options: ResolvedOptions;
  /** Shutting down: new connections are refused with 503. */
  readonly draining: boolean;
  /** At `maxConnections`: the 503 text for a new connection (undefined while there is room). */
  refuseIfFull(): string | undefined;
  /** This node holds the connection over a WebSocket. */
  hasWebSocket(connectionId: string): boolean;
  /** The connection ended on this node; its token must not reopen it here. */
  hasEnded(connectionId: string): boolean;
  /** A stateful-reconnect reattach for a WebSocket connection held here reached another node (TransportOp.Reattach). */
  reattachElsewhere(connectionId: string): 'retry' | 'conflict' | 'gone';
}

/** A transport request whose token (and user) the server has verified. */
export interface VerifiedTarget {
  readonly connectionId: string;
  readonly tokenExpiresAt: number;
  /** When negotiate issued the token; undefined for tokens that do not say. */
  readonly tokenIssuedAt: number | undefined;
  readonly user: HubUser | undefined;
  /** The request info the connection keeps (headers, query, cookies) if this request creates it. */
  readonly info: () => ConnectionRequestInfo;
}

interface Session {
  readonly connectionId: string;
  readonly endpoint: HttpEndpoint;
  readonly transport: HttpTransport;
  sink: SessionSink | undefined;
  removed: boolean;
  /** The backplane channel was released (removal, or server shutdown). */
  released: boolean;
}

const CHANGE_TRANSPORT = refusals.changeTransports;
const NOT_FOUND = textReply(404, refusals.noConnection);
const OK = textReply(200, '');
const ACCEPTED = textReply(202, '');
const DRAINING = refusals.draining;
const REATTACH_REPLIES = {
  retry: OK,
  conflict: textReply(409, refusals.webSocketActive),
  gone: NOT_FOUND,
} as const;
/** How long a forwarded request other than a poll waits for the owning node. */
const FORWARD_TIMEOUT_MS = 10_000;
/**
 * The owner holds a forwarded poll at most this long (then 200, empty: the client polls again),
 * so a forwarding node notices an owner that died within this plus FORWARD_POLL_MARGIN_MS,
 * instead of the whole 90 s poll timeout.
 */
const FORWARDED_POLL_MAX_MS = 10_000;
/** A forwarded poll waits its hold time plus this, so the owner's own empty answer wins. */
const FORWARD_POLL_MARGIN_MS = 5_000;
const NO_CACHE = { 'Cache-Control': 'no-cache, no-store', Pragma: 'no-cache', Expires: 'Thu, 01 Jan 1970 00:00:00 GMT' };

function textReply(status: number, text: string): TransportReply {
  return { status, body: Buffer.from(text), ...(text ? { contentType: 'text/plain; charset=utf-8' } : {}) };
}

/**
 * Server-Sent Events, long polling and their POST sends and DELETE, on every node at once.
 *
 * A connection lives on the node that received its first transport request (an SSE GET or the
 * first poll): that node holds the connection's backplane channel from then on. A later request
 * that lands on another node (round-robin balancing, no sticky sessions) is forwarded to the
 * owner through the scale-out's TransportRouter, and the owner's answer is written back; with no
 * router (one node) a connection this node does not hold does not exist. Owner-side behaviour is
 * the same for local and forwarded requests (`serve`).
 */
export class HttpTransports {
  private readonly sessions = new Map<string, Session>();
  /** Largest POST body: the same hard limit as one WebSocket frame (see HubServer). */
  readonly maxBodyBytes: number;

  constructor(private readonly host: HttpTransportHost) {
    this.maxBodyBytes = Math.max(1024 * 1024, host.options.maxMessageSize * 4);
  }

  /** Whether this node holds an SSE or long-polling connection with that id. */
  has(connectionId: string): boolean {
    return this.sessions.has(connectionId);
  }

  /** Handles GET (SSE stream or poll), POST (send) and DELETE at a connection URL. */
  async handle(req: IncomingMessage, res: ServerResponse, endpoint: HttpEndpoint, target: VerifiedTarget): Promise<void> {
    let op = operationOf(req);
    if (op === undefined) {
      req.resume();
      return sendText(res, 405, 'Use GET, POST or DELETE on a connection URL.', { Allow: 'GET, POST, DELETE' });
    }
    let body: Buffer | undefined;
    if (op === TransportOp.Send) {
      try {
        body = await readBody(req, this.maxBodyBytes);
      } catch {
        return sendText(res, 400, 'The request body could not be read.');
      }
      if (!body) op = TransportOp.Oversize;
    } else {
      req.resume();
    }
    const id = target.connectionId;
    const request: ForwardedRequest = { op, connectionId: id, ...(body ? { body } : {}), text: isText(req), signal: clientGone(res) };
    let reply: TransportReply | undefined;
    if (this.sessions.has(id) || this.host.hasWebSocket(id)) reply = await this.serve(request, endpoint.path);
    else if (this.host.hasEnded(id)) reply = NOT_FOUND;
    else if (endpoint.router) reply = await this.forward(endpoint.router, request);
    if (!reply) {
      // No node holds the connection: an SSE GET or a poll creates it here if the token is fresh
      // from negotiate; anything else is late (the owner is gone, or the connection ended).
      if (op === TransportOp.Stream && this.mayOpen(target)) return this.openSse(res, endpoint, target);
      if (op === TransportOp.Poll && this.mayOpen(target)) return this.openLongPolling(res, endpoint, target);
      reply = op === TransportOp.Oversize ? this.tooLarge() : NOT_FOUND;
    }
    writeReply(res, reply, op);
  }

  /**
   * Runs a transport request for a connection this node holds, whether it arrived here or was
   * forwarded by another node. Resolves with the answer for the client.
   */
  async serve(request: ForwardedRequest, path: string, pollWaitMs = this.host.options.longPollTimeoutMs): Promise<TransportReply> {
    if (request.op === TransportOp.Reattach) return REATTACH_REPLIES[this.host.reattachElsewhere(request.connectionId)];
    const session = this.sessions.get(request.connectionId);
    if (!session || session.endpoint.path !== path) return this.host.hasWebSocket(request.connectionId) ? webSocketConflict(request.op) : NOT_FOUND;
    const { transport } = session;
    switch (request.op) {
      case TransportOp.Send:
        return (await transport.deliver(request.body ?? new Uint8Array(0), request.text === true)) ? OK : NOT_FOUND;
      case TransportOp.Oversize:
        this.host.options.logger.warn({ connectionId: session.connectionId, code: 'SB_TRANSPORT_BODY_TOO_LARGE', limit: this.maxBodyBytes }, 'POST body over the limit; closing this connection');
        session.sink?.fail('SB_TRANSPORT_BODY_TOO_LARGE', this.tooLargeText());
        return this.tooLarge();
      case TransportOp.Poll: {
        if (!(transport instanceof LongPollingTransport)) return textReply(400, CHANGE_TRANSPORT);
        const reply = await transport.poll(request.signal, pollWaitMs);
        // The 204 that tells the client the connection is over was given: nothing is left to serve.
        if (reply.status === 204 && transport.ended) this.remove(session);
        return reply;
      }
      case TransportOp.Delete:
        if (!(transport instanceof LongPollingTransport)) return textReply(400, refusals.deleteNotAllowed);
        this.dispose(session, undefined);
        return ACCEPTED;
      case TransportOp.Stream:
        return transport instanceof SseTransport ? textReply(409, refusals.sseActive) : textReply(400, CHANGE_TRANSPORT);
    }
  }

  /** `serve` for a request another node forwarded here (TransportRouter handler). */
  serveForwarded(request: ForwardedRequest, path: string): Promise<TransportReply> {
    return this.serve(request, path, this.forwardedPollWaitMs);
  }

  private get forwardedPollWaitMs(): number {
    return Math.min(this.host.options.longPollTimeoutMs, FORWARDED_POLL_MAX_MS);
  }

  /** Disposes of long-polling connections that had no poll for `disconnectTimeoutMs`; called by the heartbeat. */
  tick(now: number): void {
    const limit = this.host.options.disconnectTimeoutMs;
    for (const session of this.sessions.values()) {
      const { transport } = session;
      if (!(transport instanceof LongPollingTransport) || transport.idleSince === undefined || now - transport.idleSince <= limit) continue;
      const message = `No poll arrived for ${limit} ms (disconnectTimeoutMs); the long-polling client is gone.`;
      if (!transport.ended) this.host.options.logger.info({ connectionId: session.connectionId, code: 'SB_TRANSPORT_INACTIVE' }, 'disposing of an inactive long-polling connection');
      this.dispose(session, new SwitchboardError('SB_TRANSPORT_INACTIVE', message));
    }
  }

  /**
   * Ends every HTTP-transport connection (server shutdown, after hub connections queued their
   * Close): streams and held polls get what is pending. The connections' channels are released
   * at once, so other nodes answer their requests with 404 instead of waiting for this node; a
   * long-polling client that polls this node again still collects its Close and the final 204
   * (for up to `disconnectTimeoutMs`, as the heartbeat has stopped).
   */
  close(): void {
    for (const session of [...this.sessions.values()]) {
      session.transport.close();
      session.sink?.transportClosed(undefined);
      if (session.transport instanceof SseTransport) this.remove(session);
      else this.release(session);
    }
    setTimeout(() => {
      for (const session of [...this.sessions.values()]) this.remove(session);
    }, this.host.options.disconnectTimeoutMs).unref();
  }

  /**
   * A connection is created by the first transport request after negotiate, which the client
   * sends at once; a negotiated connection that saw none for `disconnectTimeoutMs` counts as
   * disposed (ASP.NET's rule). So an SSE GET or a poll for a connection no node holds opens one
   * only within that window of the token's issue. Later, it means the owner died or the
   * connection ended elsewhere: 404, and the client reconnects (instead of polling a new,
   * never-handshaken connection).
   */
  private mayOpen(target: VerifiedTarget): boolean {
    if (target.tokenIssuedAt === undefined) return true;
    const open = this.host.options.now() - target.tokenIssuedAt <= this.host.options.disconnectTimeoutMs;
    if (!open) this.host.options.logger.debug({ connectionId: target.connectionId }, 'no node holds this connection and its token is too old to open it; answering 404');
    return open;
  }

  private async forward(router: TransportRouter, request: ForwardedRequest): Promise<TransportReply | undefined> {
    const timeoutMs = request.op === TransportOp.Poll ? this.forwardedPollWaitMs + FORWARD_POLL_MARGIN_MS : FORWARD_TIMEOUT_MS;
    try {
      const reply = await router.forwardTransport(request, timeoutMs);
      if (reply) this.host.options.logger.debug({ connectionId: request.connectionId, op: request.op, status: reply.status }, 'forwarded a transport request to the node holding the connection');
      return reply;
    } catch (err) {
      const code = isSwitchboardError(err) ? err.code : undefined;
      this.host.options.logger.warn({ connectionId: request.connectionId, op: request.op, code, error: (err as Error).message }, 'could not forward a transport request to the node holding the connection');
      return textReply(503, `The hub node holding this connection could not be reached (${code ?? 'error'}); reconnect.`);
    }
  }

  private async openSse(res: ServerResponse, endpoint: HttpEndpoint, target: VerifiedTarget): Promise<void> {
    if (!endpoint.transports.includes('ServerSentEvents')) return sendText(res, 404, 'Server-Sent Events are not enabled on this endpoint.');
    const session = await this.create(res, endpoint, target, () => new SseTransport(res), TransportOp.Stream);
    if (!session) return;
    const transport = session.transport as SseTransport;
    transport.start();
    // The client's stop() just closes the EventSource: the request ending tears the connection down.
    res.once('close', () => {
      if (!session.removed) this.dispose(session, undefined);
    });
  }

  private async openLongPolling(res: ServerResponse, endpoint: HttpEndpoint, target: VerifiedTarget): Promise<void> {
    if (!endpoint.transports.includes('LongPolling')) return sendText(res, 404, 'Long polling is not enabled on this endpoint.');
    const options = this.host.options;
    const session = await this.create(res, endpoint, target, () => new LongPollingTransport(options.longPollTimeoutMs, options.now), TransportOp.Poll);
    // The first poll activates the connection and is answered at once, empty.
    if (session) writeReply(res, pollData(new Uint8Array(0)), TransportOp.Poll);
  }

  /**
   * Creates the connection on this node: holds its backplane channel first, so that requests
   * landing on other nodes reach it from its first byte on (the handshake may arrive anywhere).
   */
  private async create(res: ServerResponse, endpoint: HttpEndpoint, target: VerifiedTarget, make: () => HttpTransport, op: TransportOp): Promise<Session | undefined> {
    if (this.host.draining) {
      sendText(res, 503, DRAINING);
      return undefined;
    }
    const full = this.host.refuseIfFull();
    if (full) {
      sendText(res, 503, full);
      return undefined;
    }
    const id = target.connectionId;
    try {
      await endpoint.router?.holdConnection(id);
    } catch (err) {
      this.host.options.logger.warn({ connectionId: id, error: (err as Error).message }, 'could not subscribe to a new connection channel');
      sendText(res, 503, 'The backplane is unavailable; try again.');
      return undefined;
    }
    // Re-check after the await: another first request for this id on this node, or the client left.
    if (this.sessions.has(id) || res.destroyed) {
      void endpoint.router?.releaseConnection(id).catch(() => {});
      if (!res.destroyed) writeReply(res, await this.serve({ op, connectionId: id, signal: clientGone(res) }, endpoint.path), op);
      return undefined;
    }
    const transport = make();
    const session: Session = { connectionId: id, endpoint, transport, sink: undefined, removed: false, released: false };
    this.sessions.set(id, session);
    session.sink = endpoint.open(transport, { connectionId: id, user: target.user, request: target.info() }, target.tokenExpiresAt, () => this.onEnded(session));
    transport.receiver = (chunk, text) => session.sink?.receive(chunk, text);
    return session;
  }

  /** The connection ended (closed by the hub or the server, or its transport ended). */
  private onEnded(session: Session): void {
    session.transport.close();
    // Long polling stays until a poll has collected the rest and its 204 (or the disconnect timeout).
    if (session.transport instanceof SseTransport) this.remove(session);
  }

  /** Ends a connection from the transport side: DELETE, stream closed by the client, inactivity. */
  private dispose(session: Session, error: Error | undefined): void {
    this.remove(session);
    if (session.transport instanceof LongPollingTransport) session.transport.terminate();
    else session.transport.close();
    session.sink?.transportClosed(error);
  }

  private remove(session: Session): void {
    if (session.removed) return;
    session.removed = true;
    if (this.sessions.get(session.connectionId) === session) this.sessions.delete(session.connectionId);
    this.release(session);
  }

  private release(session: Session): void {
    if (session.released) return;
    session.released = true;
    session.endpoint.router?.releaseConnection(session.connectionId).catch((err: Error) => {
      this.host.options.logger.warn({ connectionId: session.connectionId, error: err.message }, 'could not release a connection channel');
    });
  }

  private tooLargeText(): string {
    return `The request body is larger than ${this.maxBodyBytes} bytes (the POST limit derived from maxMessageSize); send smaller batches.`;
  }

  private tooLarge(): TransportReply {
    return textReply(413, this.tooLargeText());
  }
}

/** GET with `Accept: text/event-stream` opens SSE; another GET is a poll. */
function operationOf(req: IncomingMessage): TransportOp | undefined {
  switch (req.method) {
    case 'GET':
      return (req.headers.accept ?? '').includes('text/event-stream') ? TransportOp.Stream : TransportOp.Poll;
    case 'POST':
      return TransportOp.Send;
    case 'DELETE':
      return TransportOp.Delete;
    default:
      return undefined;
  }
}

/** What an HTTP request gets for a connection this node holds over a WebSocket (as ASP.NET answers). */
function webSocketConflict(op: TransportOp): TransportReply {
  if (op === TransportOp.Send || op === TransportOp.Oversize) return textReply(405, refusals.postOnWebSocket);
  if (op === TransportOp.Delete) return textReply(400, refusals.deleteNotAllowed);
  return textReply(400, CHANGE_TRANSPORT);
}

function isText(req: IncomingMessage): boolean {
  return /^text\//i.test(req.headers['content-type'] ?? '');
}

/** Aborts when the response closes before it was finished (the client went away). */
function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

function writeReply(res: ServerResponse, reply: TransportReply, op: TransportOp): void {
  if (res.destroyed) return;
  if (res.headersSent) return void res.end();
  const headers: Record<string, string | number> = op === TransportOp.Poll ? { ...NO_CACHE } : {};
  if (reply.status !== 204) headers['Content-Length'] = reply.body.length;
  if (reply.contentType) headers['Content-Type'] = reply.contentType;
  // The rest of an oversized body is never read: end the TCP connection after the answer.
  if (op === TransportOp.Oversize) headers['Connection'] = 'close';
  res.writeHead(reply.status, headers);
  res.end(reply.status === 204 ? undefined : reply.body);
}
