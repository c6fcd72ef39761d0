/**
 * One string for equal values that many connections keep for their lifetime: each connection
 * holds its upgrade request's headers (`ctx.request`), and most of their values are the same for
 * every client of a deployment (Host, Origin, User-Agent, `Upgrade: websocket`, `Connection:
 * Upgrade`, `Sec-WebSocket-Version: 13`, ...), yet Node parses a new string for each request:
 * about 150 bytes per connection with a bare client, several hundred with a browser's headers.
 *
 * Only the kinds in SHARED (header names that carry no secret and repeat across clients, and the
 * callers' own kinds such as the remote address) are kept: a header that may carry a credential
 * (Authorization, Cookie, an API key, a token in Sec-WebSocket-Protocol) is never held here after
 * its connection ended. Bounded: each kind keeps its MAX_PER_KIND most recent distinct values
 * (first in, first out), values up to MAX_LENGTH characters. A value not kept is returned as it
 * came, so a client cannot grow this, only make it share less.
 */
const MAX_PER_KIND = 4;
const MAX_LENGTH = 512;

/** Header names (lower case, as Node gives them) whose values are shared; every other header is left as it came. */
const SHARED_HEADERS = new Set([
  'host',
  'origin',
  'user-agent',
  'upgrade',
  'connection',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'accept',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'pragma',
  'sec-fetch-dest',
  'sec-fetch-mode',
  'sec-fetch-site',
  'sec-ch-ua',
  'sec-ch-ua-mobile',
  'sec-ch-ua-platform',
  'x-forwarded-proto',
]);

const recent = new Map<string, string[]>();

/**
 * `value`, or an equal string seen recently for the same `kind`: a header name of SHARED_HEADERS,
 * or a kind of the caller's own starting with ':' (never one that can hold a secret).
 */
export function sharedString(kind: string, value: string): string {
  if (value.length > MAX_LENGTH || !(kind.startsWith(':') || SHARED_HEADERS.has(kind))) return value;
  let values = recent.get(kind);
  if (!values) recent.set(kind, (values = []));
  for (const v of values) if (v === value) return v;
  if (values.length >= MAX_PER_KIND) values.shift();
  values.push(value);
  return value;
}

/** Replaces each string value of `headers` named in SHARED_HEADERS by its shared equal (see `sharedString`); returns `headers`. */
export function shareHeaderValues<T extends Record<string, string | string[] | undefined>>(headers: T): T {
  const h = headers as Record<string, string | string[] | undefined>;
  for (const name in h) {
    const value = h[name];
    if (typeof value === 'string' && SHARED_HEADERS.has(name)) h[name] = sharedString(name, value);
  }
  return headers;
}

/** What the table holds now, by kind (tests and diagnostics: it must never hold a credential). */
export function sharedStringsHeld(): ReadonlyMap<string, readonly string[]> {
  return recent;
}
