/**
 * One string for equal values that many connections keep for their lifetime: each connection
 * holds its upgrade request's headers (`ctx.request`), and most of their values are the same for
 * every client of a deployment (Host, Origin, User-Agent, `Upgrade: websocket`, `Connection:
 * Upgrade`, `Sec-WebSocket-Version: 13`, ...), yet Node parses a new string for each request:
 * about 150 bytes per connection with a bare client, several hundred with a browser's headers.
 *
 * Bounded: up to MAX_KINDS kinds (header names), each with its MAX_PER_KIND most recent distinct
 * values (first in, first out), values up to MAX_LENGTH characters. A value not kept is returned
 * as it came, so a client cannot grow this, only make it share less.
 */
const MAX_KINDS = 64;
const MAX_PER_KIND = 4;
const MAX_LENGTH = 512;

/** Headers unique to each request: never kept (they would only push out values that repeat). */
const UNIQUE = new Set(['sec-websocket-key', 'authorization', 'cookie', 'proxy-authorization']);

const recent = new Map<string, string[]>();

/** `value`, or an equal string seen recently for the same `kind`. */
export function sharedString(kind: string, value: string): string {
  if (value.length > MAX_LENGTH || UNIQUE.has(kind)) return value;
  let values = recent.get(kind);
  if (!values) {
    if (recent.size >= MAX_KINDS) return value;
    recent.set(kind, (values = []));
  }
  for (const v of values) if (v === value) return v;
  if (values.length >= MAX_PER_KIND) values.shift();
  values.push(value);
  return value;
}

/** Replaces each string value of `headers` by its shared equal (see `sharedString`); returns `headers`. */
export function shareHeaderValues<T extends Record<string, string | string[] | undefined>>(headers: T): T {
  const h = headers as Record<string, string | string[] | undefined>;
  for (const name in h) {
    const value = h[name];
    if (typeof value === 'string') h[name] = sharedString(name, value);
  }
  return headers;
}
