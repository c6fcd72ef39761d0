import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the probes look at. */
export interface HealthSources {
  readonly nodeId: string;
  readonly startedAt: number;
  /** False from SIGTERM on (the node drains). */
  accepting(): boolean;
  /** Undefined when the node runs without Redis; otherwise whether Redis answers now. */
  redisReachable(): boolean | undefined;
}

/** Body of GET /readyz. `reason` is set when `status` is `unavailable`. */
export interface Readiness {
  readonly status: 'ready' | 'unavailable';
  readonly reason?: 'draining' | 'redis-unreachable';
  readonly nodeId: string;
  readonly accepting: boolean;
  readonly redis: 'up' | 'down' | 'not-configured';
}

export function readiness(s: HealthSources): Readiness {
  const reachable = s.redisReachable();
  const redis = reachable === undefined ? 'not-configured' : reachable ? 'up' : 'down';
  const accepting = s.accepting();
  const reason = !accepting ? 'draining' : redis === 'down' ? 'redis-unreachable' : undefined;
  return { status: reason ? 'unavailable' : 'ready', ...(reason ? { reason } : {}), nodeId: s.nodeId, accepting, redis };
}

/**
 * GET /healthz: 200 `{ status: 'ok', nodeId, pid, uptimeMs }` while the process serves HTTP
 * (liveness: restart the process only when this fails).
 * GET /readyz: 200 when the node accepts connections and Redis is reachable (or not configured);
 * 503 with `{ status: 'unavailable', reason: 'draining' | 'redis-unreachable', ... }` otherwise
 * (readiness: route no new clients here). Returns false for other paths.
 */
export function handleHealth(req: IncomingMessage, res: ServerResponse, path: string, sources: HealthSources): boolean {
  if (path !== '/healthz' && path !== '/readyz') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, req, 405, { error: `Use GET ${path}.`, code: 'SB_HTTP_METHOD' }, { Allow: 'GET, HEAD' });
    return true;
  }
  if (path === '/healthz') {
    send(res, req, 200, { status: 'ok', nodeId: sources.nodeId, pid: process.pid, uptimeMs: Date.now() - sources.startedAt });
    return true;
  }
  const r = readiness(sources);
  send(res, req, r.status === 'ready' ? 200 : 503, r);
  return true;
}

function send(res: ServerResponse, req: IncomingMessage, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(req.method === 'HEAD' ? undefined : body);
}
