import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { HubServer } from '../server.js';
import { silentLogger } from '../telemetry/logger.js';
import type { HubConnection } from '../connection/connection.js';
import type { WebSocketTransport } from './websocket-transport.js';

// What an idle WebSocket connection keeps is measured by the scale benchmark (bench/README.md,
// "Scale"); these check the shapes that keep it small, which a refactor could undo unnoticed:
// no per-socket closures, one error listener on the upgraded socket, no ended-token entry without
// a token.
const SECRET = 'switchboard-test-secret-32-bytes';
const RS = '\x1e';

interface Node {
  server: HubServer;
  http: Server;
  port: number;
  /** Server-side sockets, in upgrade order. */
  sockets: Socket[];
}
const nodes: Node[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) {
    await n.server.close();
    n.http.closeAllConnections();
    await new Promise<void>((r) => n.http.close(() => r()));
  }
});

async function start(): Promise<Node> {
  const server = new HubServer({ secret: SECRET, logger: silentLogger });
  server.mapHub('/hub', { methods: { Echo: (_ctx, m: unknown) => m } });
  const http = createServer();
  server.attach(http);
  const sockets: Socket[] = [];
  http.on('upgrade', (_req, socket: Socket) => sockets.push(socket));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const node = { server, http, port: (http.address() as AddressInfo).port, sockets };
  nodes.push(node);
  return node;
}

/** Opens a socket, does the JSON handshake and one Echo; resolves with the client socket. */
async function connect(node: Node, token?: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${node.port}/hub${token ? `?id=${encodeURIComponent(token)}` : ''}`);
  const frames: string[] = [];
  ws.on('message', (d: Buffer) => frames.push(...d.toString().split(RS).filter(Boolean)));
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  ws.send(`{"protocol":"json","version":1}${RS}`);
  ws.send(`{"type":1,"invocationId":"1","target":"Echo","arguments":["hi"]}${RS}`);
  for (let i = 0; i < 100 && !frames.some((f) => f.includes('"result":"hi"')); i++) await new Promise((r) => setTimeout(r, 10));
  expect(frames.some((f) => f.includes('"result":"hi"'))).toBe(true);
  return ws;
}

const connectionsOf = (node: Node) => [...(node.server as unknown as { connections: Map<string, HubConnection> }).connections.values()];

describe('an idle WebSocket connection keeps no per-connection listener state', () => {
  it('the socket listeners are shared by every connection; the upgraded socket has one error listener (ws\'s)', async () => {
    const node = await start();
    const clients = [await connect(node), await connect(node)];
    const [a, b] = connectionsOf(node).map((c) => (c.transport as WebSocketTransport).socket);
    for (const event of ['message', 'close', 'error'] as const) {
      expect(a!.listeners(event)).toHaveLength(1);
      expect(a!.listeners(event)[0]).toBe(b!.listeners(event)[0]);
    }
    for (const socket of node.sockets) expect(socket.listeners('error')).toHaveLength(1);
    // Pings are answered without ws's autoPong (a closure per socket).
    expect((a as unknown as Record<string, unknown>)['_autoPongComplete']).toBeUndefined();
    const pong = new Promise<string>((r) => clients[0]!.once('pong', (d: Buffer) => r(d.toString())));
    clients[0]!.ping('are you there');
    expect(await pong).toBe('are you there');
    for (const c of clients) c.close();
  });

  it('a connection without a token (skipNegotiation) leaves no ended-token entry; one with a token does', async () => {
    const node = await start();
    const res = await fetch(`http://127.0.0.1:${node.port}/hub/negotiate?negotiateVersion=1`, { method: 'POST' });
    const { connectionToken, connectionId } = (await res.json()) as { connectionToken: string; connectionId: string };
    const withToken = await connect(node, connectionToken);
    const without = await connect(node);
    const ids = connectionsOf(node).map((c) => c.connectionId);
    const bare = ids.find((id) => id !== connectionId)!;
    const closed = Promise.all([withToken, without].map((ws) => new Promise((r) => ws.once('close', r))));
    withToken.close();
    without.close();
    await closed;
    for (let i = 0; i < 100 && connectionsOf(node).length; i++) await new Promise((r) => setTimeout(r, 10));
    const tokens = (node.server as unknown as { tokens: { hasEnded(id: string): boolean } }).tokens;
    expect(tokens.hasEnded(connectionId)).toBe(true);
    expect(tokens.hasEnded(bare)).toBe(false);
  });
});
