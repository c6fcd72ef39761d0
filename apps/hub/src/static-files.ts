import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** Where the dashboard's bundle was found, and how: the answer of `findWebDist`. */
export interface WebDist {
  readonly dir: string;
  /** 'package': through Node's resolution of @switchboard/web; 'checkout': next to apps/hub in the repository. */
  readonly source: 'package' | 'checkout';
}

/**
 * Finds the dashboard's bundle (the `dist/` folder of @switchboard/web). Node's module resolution
 * finds the package wherever npm put it: hoisted next to us in an installed project, or linked to
 * apps/web in the workspace. A relative path alone breaks once the packages are installed from
 * tarballs. If the package cannot be resolved (a checkout without `npm install`), it falls back to
 * the repository layout, apps/web/dist seen from apps/hub/dist or apps/hub/src.
 */
export function findWebDist(resolve: (id: string) => string = require.resolve): WebDist {
  try {
    return { dir: join(dirname(resolve('@switchboard/web/package.json')), 'dist') + sep, source: 'package' };
  } catch {
    return { dir: fileURLToPath(new URL('../../web/dist/', import.meta.url)), source: 'checkout' };
  }
}

const WEB = findWebDist();

/** The dashboard's bundle: the `dist/` of @switchboard/web (apps/web/dist in the repository, built by `npm run build`). */
export const WEB_DIST = WEB.dir;

/** Content types by extension; a file with another extension is not served. */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

/** The official browser bundles, for pages that load them with a plain <script> tag. */
const LIBRARIES: Readonly<Record<string, string>> = {
  '/lib/signalr.js': require.resolve('@microsoft/signalr/dist/browser/signalr.min.js'),
  '/lib/signalr-protocol-msgpack.js': require.resolve('@microsoft/signalr-protocol-msgpack/dist/browser/signalr-protocol-msgpack.min.js'),
};

// The dashboard talks only to its own origin (fetch for negotiate, WebSockets for the hubs);
// `ws: wss:` because Safari before 15.4 does not count same-origin WebSockets as 'self'.
const HTML_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'Referrer-Policy': 'no-referrer',
};

const NOT_BUILT = 'The dashboard is not built: run `npm run build` (it bundles apps/web into apps/web/dist).\n';

/** What `/` answers when the bundle is missing: the fix depends on whether the package was found at all. */
export function notBuiltMessage(web: WebDist): string {
  if (web.source === 'package') return `The dashboard is missing: no index.html in ${web.dir}. In the repository, run \`npm run build\`; an installed @switchboard/web ships it built.\n`;
  return `The dashboard was not found: @switchboard/web is not installed (npm install @switchboard/web) and ${web.dir} has no build (in the repository, run \`npm run build\`).\n`;
}

/**
 * Maps a URL path to a file under `root`, or undefined: percent-decoded, no NUL or backslash, no
 * dot segments or hidden files, and the result must stay inside `root` (no directory traversal).
 */
export function resolveStaticPath(root: string, pathname: string): string | undefined {
  if (!pathname.startsWith('/')) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined; // malformed escape
  }
  if (decoded === '/') decoded = '/index.html';
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').slice(1);
  if (segments.some((s) => s === '' || s.startsWith('.'))) return undefined; // '', '.', '..', dotfiles, '//'
  const base = normalize(root.endsWith(sep) ? root : root + sep);
  const full = normalize(join(base, ...segments));
  return full.startsWith(base) ? full : undefined;
}

/**
 * Serves the files of `root` (GET and HEAD) with content types by extension, ETag revalidation
 * (`Cache-Control: no-cache`, so a rebuilt dashboard shows at once) and a strict CSP on HTML.
 * Returns false for paths it does not serve, so the caller answers 404.
 */
export function createStaticHandler(root: string, libraries: Readonly<Record<string, string>> = {}, notBuilt = NOT_BUILT) {
  return async function serve(pathname: string, res: ServerResponse): Promise<boolean> {
    const library = libraries[pathname];
    const file = library ?? resolveStaticPath(root, pathname);
    if (!file) return false;
    const type = TYPES[extname(file).toLowerCase()];
    if (!type) return false;
    let info;
    try {
      info = await stat(file);
    } catch {
      if (pathname === '/' || pathname === '/index.html') {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(notBuilt);
        return true;
      }
      return false;
    }
    if (!info.isFile()) return false;
    const method = res.req?.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Method Not Allowed\n');
      return true;
    }
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    const headers: Record<string, string | number> = {
      'Content-Type': type,
      'Cache-Control': 'no-cache',
      ETag: etag,
      'X-Content-Type-Options': 'nosniff',
      ...(type.startsWith('text/html') ? HTML_HEADERS : {}),
    };
    if (res.req?.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const body = await readFile(file);
    res.writeHead(200, { ...headers, 'Content-Length': body.length });
    res.end(method === 'HEAD' ? undefined : body);
    return true;
  };
}

/** The hub node's static files: the dashboard at `/` (the dist of @switchboard/web) and the official client bundles at `/lib/`. */
export const serveStatic = createStaticHandler(WEB_DIST, LIBRARIES, notBuiltMessage(WEB));
