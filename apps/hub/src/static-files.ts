import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';

const require = createRequire(import.meta.url);
const publicDir = new URL('../public/', import.meta.url);

/** Files served as is: the chat page and the official browser client bundles. */
const FILES: Record<string, { path: string | URL; type: string }> = {
  '/': { path: new URL('index.html', publicDir), type: 'text/html; charset=utf-8' },
  '/lib/signalr.js': { path: require.resolve('@microsoft/signalr/dist/browser/signalr.min.js'), type: 'text/javascript; charset=utf-8' },
  '/lib/signalr-protocol-msgpack.js': {
    path: require.resolve('@microsoft/signalr-protocol-msgpack/dist/browser/signalr-protocol-msgpack.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
};

const cache = new Map<string, Buffer>();

/** Serves a known static file; returns false for other paths. */
export async function serveStatic(pathname: string, res: ServerResponse): Promise<boolean> {
  const file = FILES[pathname];
  if (!file) return false;
  let body = cache.get(pathname);
  if (!body) {
    body = await readFile(file.path);
    cache.set(pathname, body);
  }
  res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': body.length, 'Cache-Control': 'no-cache' });
  res.end(body);
  return true;
}
