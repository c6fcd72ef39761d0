import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { ConnectionRequestInfo } from '../hub/hub.js';
import { parseCookies } from './http-util.js';
import { shareHeaderValues, sharedString } from './shared-strings.js';

/**
 * The HTTP request that opened a connection, as hub code sees it (`ctx.request`). It lives as long
 * as the connection, so it keeps only the headers, the URL as a string and the remote address;
 * the path, the query and the cookies are parsed on first access (most hubs never read them, and
 * a parsed URL and a cookie map cost about 700 bytes per connection). Values equal across
 * connections (most headers, the address, a URL without a query) are one string for all of them
 * (shared-strings.ts); a URL with a query (a connection token, an access token) is never shared.
 */
export class RequestInfo implements ConnectionRequestInfo {
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string | undefined;
  private readonly href: string;
  private url: URL | undefined;
  private parsedCookies: ReadonlyMap<string, string> | undefined;

  constructor(req: IncomingMessage, url: URL) {
    this.headers = shareHeaderValues(req.headers);
    const address = req.socket.remoteAddress;
    this.remoteAddress = address === undefined ? undefined : sharedString(':address', address);
    this.href = url.search ? url.href : sharedString(':url', url.href);
  }

  get path(): string {
    return this.parsed().pathname;
  }

  get query(): URLSearchParams {
    return this.parsed().searchParams;
  }

  get cookies(): ReadonlyMap<string, string> {
    return (this.parsedCookies ??= parseCookies(this.headers.cookie));
  }

  private parsed(): URL {
    return (this.url ??= new URL(this.href));
  }
}
