import type { IncomingMessage, ServerResponse } from 'node:http';
import { SwitchboardError } from '@switchboard/protocol';

/** CORS for browsers on other origins (`HubServerOptions.cors`). */
export interface CorsOptions {
  /**
   * Origins allowed to call with credentials, as browsers send them: `https://app.example.com`,
   * `http://localhost:5173` (scheme, host, port; no path). Matched exactly. `*` is refused: the
   * official client sends credentials, and a wildcard with credentials is never safe.
   */
  origins: readonly string[];
  /** Request headers allowed besides the ones SignalR and the REST API use. @defaultValue none */
  allowHeaders?: readonly string[];
  /** How long browsers may cache a preflight answer. @defaultValue 600 */
  maxAgeSeconds?: number;
}

/** What the official client sends cross-origin (signalr-protocol.md 1.1), plus the REST API's Content-Type. */
export const CORS_ALLOWED_HEADERS: readonly string[] = ['Authorization', 'Content-Type', 'X-Requested-With', 'X-SignalR-User-Agent'];

/** Validates one configured origin and returns it as browsers serialize it (lower-case scheme and host, no default port). */
export function normalizeOrigin(raw: string, option = 'cors.origins'): string {
  if (raw === '*' || raw === 'null') {
    throw new SwitchboardError('SB_CONFIG_INVALID', `${option} must list exact origins; '${raw}' is not allowed (credentials are sent, so a wildcard would let any site act as the user).`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SwitchboardError('SB_CONFIG_INVALID', `${option}: '${raw}' is not an origin; write it as scheme://host[:port], e.g. https://app.example.com.`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin === 'null' || url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || raw.endsWith('/')) {
    throw new SwitchboardError('SB_CONFIG_INVALID', `${option}: '${raw}' is not an origin; write it as scheme://host[:port] with no path or trailing slash, e.g. https://app.example.com.`);
  }
  return url.origin;
}

/**
 * An origin allow-list. For a listed origin a response gets `Access-Control-Allow-Origin: <origin>`
 * and `Access-Control-Allow-Credentials: true`; any other origin gets no CORS headers at all (the
 * browser then blocks the response). Preflights (OPTIONS with `Access-Control-Request-Method`)
 * are answered here with 204.
 */
export class CorsPolicy {
  private readonly origins: ReadonlySet<string>;
  private readonly allowHeaders: string;
  private readonly maxAge: string;

  constructor(options: CorsOptions) {
    if (!options || !Array.isArray(options.origins)) throw new SwitchboardError('SB_CONFIG_INVALID', 'cors.origins must be an array of origins, e.g. ["https://app.example.com"].');
    this.origins = new Set(options.origins.map((o) => normalizeOrigin(o)));
    const extra = options.allowHeaders ?? [];
    for (const h of extra) {
      if (typeof h !== 'string' || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(h)) throw new SwitchboardError('SB_CONFIG_INVALID', `cors.allowHeaders: ${JSON.stringify(h)} is not a header name.`);
    }
    this.allowHeaders = [...new Set([...CORS_ALLOWED_HEADERS, ...extra])].join(', ');
    const maxAge = options.maxAgeSeconds ?? 600;
    if (!Number.isInteger(maxAge) || maxAge < 0) throw new SwitchboardError('SB_CONFIG_INVALID', `cors.maxAgeSeconds must be an integer >= 0, got ${JSON.stringify(options.maxAgeSeconds)}.`);
    this.maxAge = String(maxAge);
  }

  allows(origin: string | undefined): origin is string {
    return origin !== undefined && this.origins.has(origin);
  }

  /**
   * Whether a WebSocket upgrade may go on: no `Origin` (not a browser), a listed origin, or the
   * node's own site (the Origin's host:port is the request's `Host`, or `X-Forwarded-Host` behind a
   * proxy; the scheme is not compared, as TLS often ends at the proxy). Browsers send cookies with
   * cross-site upgrades and CORS does not apply to them, so with an allow-list a page elsewhere
   * must be listed to open one (ASP.NET: `WebSocketOptions.AllowedOrigins`). Not a defence against
   * non-browser clients, which send any Origin they like: they need the access token anyway.
   */
  allowsUpgrade(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || this.allows(origin)) return true;
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return false; // "null" (sandboxed frames, file:) and anything unparsable
    }
    if (!host) return false;
    const forwarded = req.headers['x-forwarded-host'];
    const own = [req.headers.host, ...(typeof forwarded === 'string' ? forwarded.split(',') : [])];
    return own.some((h) => h !== undefined && h.trim().toLowerCase() === host);
  }

  /**
   * Adds the CORS headers for the request's origin to `res` (before the handler writes its head).
   * Answers a preflight itself (204) and returns true; otherwise returns false and the handler
   * goes on. `methods` are what the URL takes (for example POST for negotiate).
   */
  apply(req: IncomingMessage, res: ServerResponse, methods: readonly string[]): boolean {
    const origin = req.headers.origin;
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (origin === undefined) return false;
    res.setHeader('Vary', preflight ? 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' : 'Origin');
    const listed = this.allows(origin);
    if (listed) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (!preflight) return false;
    req.resume();
    if (listed) {
      res.setHeader('Access-Control-Allow-Methods', methods.join(', '));
      res.setHeader('Access-Control-Allow-Headers', this.allowHeaders);
      res.setHeader('Access-Control-Max-Age', this.maxAge);
    }
    res.writeHead(204, { 'Content-Length': 0 });
    res.end();
    return true;
  }
}
