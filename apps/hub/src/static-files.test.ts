import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaticHandler, findWebDist, notBuiltMessage, resolveStaticPath, serveStatic, WEB_DIST } from './static-files.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request: the path goes on the wire exactly as given (fetch would normalize it). */
function get(port: number, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Serves like the hub's main.ts does: URL pathname, then the handler, else 404. */
function listen(handler: ReturnType<typeof createStaticHandler>): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    void handler(path, res).then((served) => {
      if (!served) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('Not Found');
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

describe('static files', () => {
  let dir: string;
  let root: string;
  let port: number;
  let server: Server;
  let emptyPort: number;
  let emptyServer: Server;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-static-'));
    root = join(dir, 'dist');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(root, 'app.js'), 'console.log(1);');
    writeFileSync(join(root, 'app.css'), 'body{}');
    writeFileSync(join(root, 'notes.md'), '# not served');
    writeFileSync(join(root, '.env'), 'SECRET=1');
    writeFileSync(join(dir, 'secret.js'), 'outside the root');
    ({ server, port } = await listen(createStaticHandler(root)));
    ({ server: emptyServer, port: emptyPort } = await listen(createStaticHandler(join(dir, 'missing'))));
  });
  afterAll(() => {
    server?.close();
    emptyServer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves / as index.html with a strict CSP, and assets with their content types', async () => {
    const home = await get(port, '/');
    expect(home.status).toBe(200);
    expect(home.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(home.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(home.body).toContain('<title>t</title>');
    const js = await get(port, '/app.js');
    expect([js.status, js.headers['content-type'], js.body]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log(1);']);
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    expect(js.headers['content-security-policy']).toBeUndefined();
    const css = await get(port, '/app.css');
    expect([css.status, css.headers['content-type']]).toEqual([200, 'text/css; charset=utf-8']);
  });

  it('answers HEAD without a body and a matching If-None-Match with 304', async () => {
    const head = await get(port, '/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('15');
    expect(head.body).toBe('');
    const etag = String(head.headers['etag']);
    expect(etag).toMatch(/^W\/"/);
    const again = await get(port, '/app.js', 'GET', { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it('refuses other methods with 405', async () => {
    const post = await get(port, '/app.js', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
  });

  it.each([
    '/missing.js',
    '/notes.md', // extension not served
    '/.env', // hidden file
    '/sub', // a directory
    '/../secret.js',
    '/%2e%2e/secret.js',
    '/..%2fsecret.js',
    '/%2e%2e%2fsecret.js',
    '/sub/..%2f..%2fsecret.js',
    '/sub%2f..%2f..%2fsecret.js',
    '/%5c..%5csecret.js',
    '/app.js%00.css',
    '/%E0%A4%A', // malformed escape
  ])('answers 404 for %s', async (path) => {
    const reply = await get(port, path);
    expect(reply.status).toBe(404);
    expect(reply.body).not.toContain('outside the root');
  });

  it('resolveStaticPath keeps every path inside the root', () => {
    expect(resolveStaticPath('/srv/web', '/')).toBe('/srv/web/index.html');
    expect(resolveStaticPath('/srv/web', '/a/b.js')).toBe('/srv/web/a/b.js');
    expect(resolveStaticPath('/srv/web/', '/app%20x.js')).toBe('/srv/web/app x.js');
    for (const bad of ['/../x.js', '/a/../../x.js', '/..%2fx.js', '%2fetc/passwd', '/a//b.js', '/a/./b.js', '/x\\..\\y.js', '/a%00.js', '/%zz']) {
      expect(resolveStaticPath('/srv/web', bad), bad).toBeUndefined();
    }
  });

  it('says how to build the dashboard when it is not built', async () => {
    const reply = await get(emptyPort, '/');
    expect(reply.status).toBe(404);
    expect(reply.body).toMatch(/npm run build/);
    expect((await get(emptyPort, '/app.js')).status).toBe(404);
  });

  it("the hub's handler serves the official client bundle at /lib/signalr.js", async () => {
    const { server: hubStatic, port: p } = await listen(serveStatic);
    try {
      const lib = await get(p, '/lib/signalr.js');
      expect(lib.status).toBe(200);
      expect(lib.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(lib.body).toContain('HubConnectionBuilder');
    } finally {
      hubStatic.close();
    }
  });
});

// Installed from tarballs, apps/hub and apps/web are not siblings any more: the bundle is found
// through Node's resolution of @switchboard/web, with the repository layout as the fallback.
describe('finding the dashboard bundle', () => {
  it('resolves @switchboard/web through node_modules (in the workspace: the link to apps/web)', () => {
    const web = findWebDist();
    expect(web.source).toBe('package');
    expect(web.dir).toBe(fileURLToPath(new URL('../../web/dist/', import.meta.url)));
    expect(WEB_DIST).toBe(web.dir);
  });

  it('uses the folder of whatever package.json Node resolves, wherever npm installed it', () => {
    const seen: string[] = [];
    const web = findWebDist((id) => (seen.push(id), join('/srv/app/node_modules/@switchboard/web', 'package.json')));
    expect(seen).toEqual(['@switchboard/web/package.json']);
    expect(web).toEqual({ dir: `/srv/app/node_modules/@switchboard/web/dist${sep}`, source: 'package' });
  });

  it('falls back to the repository layout when the package cannot be resolved, and says so when it is missing', async () => {
    const web = findWebDist(() => {
      throw Object.assign(new Error("Cannot find module '@switchboard/web/package.json'"), { code: 'MODULE_NOT_FOUND' });
    });
    expect(web.source).toBe('checkout');
    expect(web.dir.endsWith(`${sep}web${sep}dist${sep}`)).toBe(true);
    expect(notBuiltMessage(web)).toMatch(/@switchboard\/web is not installed \(npm install @switchboard\/web\)/);
    expect(notBuiltMessage({ dir: '/x/dist/', source: 'package' })).toMatch(/no index\.html in \/x\/dist\/.*npm run build/);

    const dir = mkdtempSync(join(tmpdir(), 'sb-static-missing-'));
    const { server, port } = await listen(createStaticHandler(join(dir, 'dist'), {}, notBuiltMessage({ dir: join(dir, 'dist'), source: 'checkout' })));
    try {
      const reply = await get(port, '/');
      expect(reply.status).toBe(404);
      expect(reply.body).toContain('npm install @switchboard/web');
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
