import { connect, createServer, type Socket } from 'node:net';

/** One backend as the proxy sees it. */
export interface ProxyBackend {
  readonly host: string;
  readonly port: number;
  /** Whether new connections may go to it (a load balancer's drain switch). */
  enabled: boolean;
  /** Connections it got so far. */
  accepted: number;
  /** Connections open now. */
  open: number;
}

export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>`: one URL in front of every backend. */
  readonly url: string;
  readonly backends: readonly ProxyBackend[];
  /** Drains (false) or re-admits (true) a backend for new connections; open ones stay. */
  setEnabled(index: number, enabled: boolean): void;
  /** Cuts every open connection at once, both sides (a network failure: no WebSocket close frames). */
  cutAll(): void;
  close(): Promise<void>;
}

/** `http://host:port` → host and port. */
function parse(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/**
 * A tiny TCP load balancer: each new client connection goes to the next enabled backend in turn
 * (no sticky sessions, so negotiate and the WebSocket of one hub connection may land on different
 * nodes). A backend that refuses the connection (a dead node) is skipped for that connection; with
 * no backend left the client connection is reset, as a load balancer with no healthy node does.
 */
export function startRoundRobinProxy(backendUrls: readonly string[]): Promise<RoundRobinProxy> {
  const backends: ProxyBackend[] = backendUrls.map((u) => ({ ...parse(u), enabled: true, accepted: 0, open: 0 }));
  const sockets = new Set<Socket>();
  let next = 0;

  const forward = (client: Socket, tried: Set<number>): void => {
    let index = -1;
    for (let i = 0; i < backends.length; i++) {
      const candidate = (next + i) % backends.length;
      if (backends[candidate]!.enabled && !tried.has(candidate)) {
        index = candidate;
        break;
      }
    }
    if (index < 0) {
      client.resetAndDestroy();
      return;
    }
    next = (index + 1) % backends.length;
    tried.add(index);
    const backend = backends[index]!;
    const upstream = connect(backend.port, backend.host);
    sockets.add(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      backend.accepted++;
      backend.open++;
      client.pipe(upstream);
      upstream.pipe(client);
    });
    upstream.on('error', () => {
      if (!connected && !client.destroyed) forward(client, tried); // refused: try the next backend
      else client.destroy();
    });
    upstream.once('close', () => {
      sockets.delete(upstream);
      if (connected) {
        backend.open--;
        client.destroy();
      }
    });
    client.once('close', () => upstream.destroy());
  };

  const server = createServer({ pauseOnConnect: true }, (client) => {
    sockets.add(client);
    client.on('error', () => client.destroy());
    client.once('close', () => sockets.delete(client));
    forward(client, new Set());
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${port}`,
        backends,
        setEnabled(index, enabled) {
          const b = backends[index];
          if (!b) throw new Error(`no backend ${index}; there are ${backends.length}`);
          b.enabled = enabled;
        },
        cutAll() {
          for (const s of sockets) s.destroy();
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
