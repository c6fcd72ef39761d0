import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HubServer, jsonLogger, silentLogger, type HubServerOptions, type Logger } from '@switchboard/hub-server';
import { SignJWT } from 'jose';
import { authorizedHub, testHub, uncreatableHub } from './test-hub.js';

export interface ConformanceApp {
  readonly server: Server;
  readonly hubs: HubServer;
  readonly url: string;
  /** Requests seen, when `recordRequests` is on (newest last). */
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/** One HTTP request (or refused upgrade) as the app saw it. */
export interface RecordedRequest {
  readonly method: string;
  /** Lower-cased path. */
  readonly path: string;
  /** The `id` query parameter (the connection token), if any. */
  readonly token: string | null;
  readonly upgrade: boolean;
  /** Set when the response finished; stays undefined when the client went away first. */
  status: number | undefined;
  /** The request ended (finished or aborted). */
  ended: boolean;
}

export interface ConformanceOptions {
  port?: number;
  host?: string;
  logger?: Logger;
  /** Extra hub server options (timeouts in tests). */
  hubOptions?: Partial<HubServerOptions>;
  /** Refuse every WebSocket upgrade with 400, as a proxy that does not pass upgrades: clients fall back. @defaultValue false */
  refuseUpgrades?: boolean;
  /** Keep every request in `requests` (tests only: it grows without bound). @defaultValue false */
  recordRequests?: boolean;
}

/**
 * The official SignalR client's functional-test server (FunctionalTests/Startup.cs) with the
 * same endpoints, behaviour and strings, so `@microsoft/signalr`'s own tests can run against it.
 */
export async function startConformanceApp(options: ConformanceOptions = {}): Promise<ConformanceApp> {
  const jwtKey = randomBytes(32);
  const hubs = new HubServer({
    secret: randomBytes(32),
    detailedErrors: true,
    logger: options.logger ?? silentLogger,
    // The built-in JWT bearer validation (HS256): Authorization header, else access_token; the user is `sub`.
    jwt: { secret: jwtKey, nameClaim: 'sub' },
    ...options.hubOptions,
  });
  // Grants stateful reconnect to clients that ask (withStatefulReconnect()), so official-client tests can use it.
  const test = hubs.mapHub('/testhub', testHub, { allowStatefulReconnects: true });
  hubs.mapHub('/testhub-nowebsockets', testHub, { transports: ['ServerSentEvents', 'LongPolling'] });
  hubs.mapHub('/authorizedhub', authorizedHub);
  hubs.mapHub('/uncreatable', uncreatableHub);
  hubs.mapConnection('/echo', { onData: (conn, data, text) => conn.send(data, text) });

  let numRedirects = 0;
  const requests: RecordedRequest[] = [];
  const record = (req: IncomingMessage, url: URL, upgrade: boolean): RecordedRequest | undefined => {
    if (!options.recordRequests) return undefined;
    const entry: RecordedRequest = { method: req.method ?? '', path: url.pathname.toLowerCase(), token: url.searchParams.get('id'), upgrade, status: undefined, ended: false };
    requests.push(entry);
    return entry;
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.toLowerCase();
    const entry = record(req, url, false);
    if (entry) {
      res.once('finish', () => (entry.status = res.statusCode));
      res.once('close', () => (entry.ended = true));
    }
    cors(req, res);
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      return void res.end();
    }
    if (path.includes('/negotiate')) {
      res.setHeader('Set-Cookie', [
        'testCookie=testValue; Path=/',
        'testCookie2=testValue2; Path=/',
        'expiredCookie=doesntmatter; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
      ]);
    }
    if (path.startsWith('/redirect')) {
      const base = url.searchParams.get('baseUrl') ?? '';
      return json(res, 200, { url: `${base}/testHub?numRedirects=${++numRedirects}` });
    }
    if (path.startsWith('/echoredirect')) {
      res.writeHead(307, { Location: url.pathname.replace(/echoredirect/i, 'echo') + url.search });
      return void res.end();
    }
    if (path.startsWith('/bad-negotiate')) return text(res, 400, 'Some response from server');
    if (path === '/generatejwttoken' && req.method === 'GET') {
      const token = await new SignJWT({ sub: 'testuser' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setExpirationTime(Math.floor(Date.now() / 1000) + 5).sign(jwtKey);
      return text(res, 200, token);
    }
    if (path.startsWith('/clientresult/') && req.method === 'GET') {
      const id = decodeURIComponent(url.pathname.slice('/clientresult/'.length));
      try {
        const result = await test.clients.invoke(id, 'Result');
        return text(res, 200, String(result));
      } catch (err) {
        return text(res, 200, (err as Error).message);
      }
    }
    if (path === '/deployment') return json(res, 200, { name: 'switchboard-conformance', node: process.version });
    if (hubs.handleRequest(req, res)) return;
    text(res, 404, 'Not Found');
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      (options.logger ?? silentLogger).error({ err }, 'conformance request failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on('upgrade', (req, socket, head) => {
    const entry = record(req, new URL(req.url ?? '/', 'http://localhost'), true);
    if (options.refuseUpgrades) {
      if (entry) Object.assign(entry, { status: 400, ended: true });
      return void socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    }
    if (!hubs.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    hubs,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      await hubs.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The functional tests' CORS middleware: echo the origin, allow credentials, echo requested method/headers. */
function cors(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  if (!origin) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  const method = req.headers['access-control-request-method'];
  const headers = req.headers['access-control-request-headers'];
  if (method) res.setHeader('Access-Control-Allow-Methods', method);
  if (headers) res.setHeader('Access-Control-Allow-Headers', headers);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export { jsonLogger };
