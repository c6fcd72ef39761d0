import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineHub, HubServer, type HubEndpoint, type HubEndpointOptions, type HubServerOptions, type Logger } from '@switchboard/hub-server';

/** Shared HUB_SECRET for the suites (32 bytes); pass `secret` to get a node with another one. */
export const TEST_SECRET = 'switchboard-test-secret-32-bytes';

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly obj: Record<string, unknown>;
  readonly msg: string;
}

export interface CapturingLogger extends Logger {
  readonly entries: LogEntry[];
  /** Entries whose message contains `text` (and whose fields match `fields`, when given). */
  find(text: string, fields?: Record<string, unknown>): LogEntry[];
  /** Resolves with the first matching entry; rejects after `timeoutMs`. */
  waitFor(text: string, fields?: Record<string, unknown>, timeoutMs?: number): Promise<LogEntry>;
}

export function capturingLogger(): CapturingLogger {
  const entries: LogEntry[] = [];
  const waiters = new Set<() => void>();
  const log = (level: LogEntry['level']) => (obj: object, msg?: string) => {
    entries.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? '' });
    for (const w of [...waiters]) w();
  };
  const matches = (e: LogEntry, text: string, fields: Record<string, unknown>) =>
    e.msg.includes(text) && Object.entries(fields).every(([k, v]) => e.obj[k] === v);
  const find = (text: string, fields: Record<string, unknown> = {}) => entries.filter((e) => matches(e, text, fields));
  return {
    entries,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    find,
    waitFor(text, fields = {}, timeoutMs = 2000) {
      return new Promise<LogEntry>((resolve, reject) => {
        const check = () => {
          const hit = find(text, fields)[0];
          if (!hit) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no log line containing '${text}' ${JSON.stringify(fields)} within ${timeoutMs} ms; got: ${entries.map((e) => e.msg).join(' | ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

export interface TestClient {
  Message(message: string): void;
}

export interface HubFixture {
  /** `http://127.0.0.1:<port>/hub`, the Echo hub. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly server: HubServer;
  readonly http: Server;
  readonly hubs: { readonly hub: HubEndpoint<TestClient>; readonly other: HubEndpoint<TestClient> };
  readonly logs: CapturingLogger;
  /** Arguments of every `Record` invocation on this node, in the order the hub ran them. */
  readonly recorded: unknown[];
  /** The hubs' onConnected / onDisconnected calls on this node, in order (`error` is the error's message). */
  readonly lifecycle: { event: 'connected' | 'disconnected'; connectionId: string; transport: string; error?: string }[];
  /** `ws://127.0.0.1:<port><path>` with `?id=<token>` when a token is given. */
  wsUrl(token?: string, path?: string): string;
  close(): Promise<void>;
}

/**
 * Starts a HubServer on a fresh `node:http` server at 127.0.0.1, port 0, with two hubs: `/hub`
 * and `/other` (same methods). Options are merged over the test defaults (capturing logger, shared
 * secret). `listen.port` reuses a port (a replacement node at the same URL); `listen.endpoint` is
 * given to `mapHub` for both hubs.
 */
export async function startHub(overrides: Partial<HubServerOptions> = {}, listen: { port?: number; endpoint?: HubEndpointOptions } = {}): Promise<HubFixture> {
  const logs = capturingLogger();
  const recorded: unknown[] = [];
  const lifecycle: HubFixture['lifecycle'] = [];
  const definition = defineHub<TestClient>()({
    onConnected: (ctx) => void lifecycle.push({ event: 'connected', connectionId: ctx.connectionId, transport: ctx.transport }),
    onDisconnected: (ctx, error) =>
      void lifecycle.push({ event: 'disconnected', connectionId: ctx.connectionId, transport: ctx.transport, ...(error ? { error: error.message } : {}) }),
    methods: {
      Echo: (_ctx, message: unknown) => message,
      async Broadcast(ctx, message: string) {
        await ctx.clients.all.Message(message);
      },
      ConnectionId: (ctx) => ctx.connectionId,
      Record(_ctx, value: unknown) {
        recorded.push(value);
        return value;
      },
    },
  });
  const server = new HubServer({ secret: TEST_SECRET, logger: logs, ...overrides });
  const hub = server.mapHub('/hub', definition, listen.endpoint);
  const other = server.mapHub('/other', definition, listen.endpoint);
  const http = createServer();
  server.attach(http);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(listen.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  let closed = false;
  return {
    url: `${origin}/hub`,
    origin,
    server,
    http,
    hubs: { hub, other },
    logs,
    recorded,
    lifecycle,
    wsUrl: (token, path = '/hub') => `ws://127.0.0.1:${port}${path}${token === undefined ? '' : `?id=${token}`}`,
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        http.close(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

export interface NegotiateResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** POST `{url}/negotiate?<query>` as the official client does. */
export async function negotiate(url: string, query = 'negotiateVersion=1'): Promise<NegotiateResult> {
  const res = await fetch(`${url}/negotiate${query ? `?${query}` : ''}`, { method: 'POST', signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Negotiates and returns the connection token (and the public id). */
export async function negotiateToken(url: string): Promise<{ connectionId: string; connectionToken: string }> {
  const { status, body } = await negotiate(url);
  if (status !== 200 || typeof body['connectionToken'] !== 'string') throw new Error(`negotiate failed: ${status} ${JSON.stringify(body)}`);
  return { connectionId: body['connectionId'] as string, connectionToken: body['connectionToken'] };
}

/** Rejects with a labelled error if `promise` does not settle within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
