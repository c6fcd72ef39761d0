import type { IncomingMessage, ServerResponse } from 'node:http';

/** What `/metrics` reads: a prom-client Registry, duck-typed (this package does not depend on prom-client). */
export interface MetricsRegistry {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/**
 * Answers GET or HEAD `/metrics` with the registry's Prometheus text (no caching; 500 with the
 * reason when collecting fails) and other methods with 405. The hub and the worker serve it alike.
 */
export function serveMetrics(registry: MetricsRegistry, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
    return void res.end('Use GET /metrics.');
  }
  registry.metrics().then(
    (body) => {
      res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
    (err: Error) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`collecting metrics failed: ${err.message}`);
    },
  );
}
