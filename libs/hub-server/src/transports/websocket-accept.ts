import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { answerPings, webSocketFrameLimit } from './websocket-transport.js';

/**
 * The `ws` server of a hub server (no HTTP server of its own: server.ts routes upgrades to it) and
 * what every socket gets from the upgrade on. Its options keep an idle socket cheap: no
 * compression, no client tracking (the hub server tracks its connections), and no `autoPong`
 * (pings are answered by `answerPings`, which costs a socket no closure).
 */
export class WebSocketAcceptor {
  private readonly wss: WebSocketServer;

  constructor(maxMessageSize: number) {
    // Frames over the limit get an error Close before ws closes the socket (websocket-transport.ts).
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: webSocketFrameLimit(maxMessageSize), clientTracking: false, autoPong: false });
  }

  /** An upgrade request's socket, until `accept` or a refusal: its errors destroy it. */
  guard(socket: Duplex): void {
    socket.on('error', destroySocket);
  }

  /**
   * Completes an upgrade, then hands the socket to `then`. The `guard` listener goes once ws has
   * its own error listener on the socket, so an open socket keeps a single 'error' listener (not a
   * listener array).
   */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, then: (ws: WebSocket) => void): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      socket.removeListener('error', destroySocket);
      answerPings(ws);
      then(ws);
    });
  }
}

/**
 * The 'error' listener of a socket being upgraded: one function for every socket (a closure in
 * server.ts kept the parsed URL and the request alive for the connection's lifetime).
 */
function destroySocket(this: Duplex): void {
  this.destroy();
}
