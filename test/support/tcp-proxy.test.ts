import { createServer, connect, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoundRobinProxy, type RoundRobinProxy } from './tcp-proxy.js';

/** A TCP server that writes its name to every connection. */
function named(name: string): Promise<{ server: Server; url: string }> {
  const server = createServer((s) => s.end(name));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

/** Opens one connection through the proxy; resolves with what the backend wrote, or 'reset'. */
function ask(proxy: RoundRobinProxy): Promise<string> {
  return new Promise((resolve) => {
    const { port } = new URL(proxy.url);
    const s = connect(Number(port), '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('error', () => resolve('reset'));
    s.on('close', () => resolve(got || 'reset'));
    setTimeout(() => s.destroy(), 2000).unref();
  });
}

describe('round-robin TCP proxy (test support)', () => {
  let a: Awaited<ReturnType<typeof named>>;
  let b: Awaited<ReturnType<typeof named>>;
  let proxy: RoundRobinProxy;

  beforeAll(async () => {
    [a, b] = await Promise.all([named('A'), named('B')]);
    proxy = await startRoundRobinProxy([a.url, b.url]);
  });
  afterAll(async () => {
    await proxy?.close();
    a?.server.close();
    b?.server.close();
  });

  it('sends each new connection to the next backend, skips drained and dead ones, resets with none', async () => {
    const turns: string[] = [];
    for (let i = 0; i < 4; i++) turns.push(await ask(proxy));
    expect(turns).toEqual(['A', 'B', 'A', 'B']);
    proxy.setEnabled(0, false);
    expect([await ask(proxy), await ask(proxy)]).toEqual(['B', 'B']);
    proxy.setEnabled(0, true);
    await new Promise<void>((r) => b.server.close(() => r())); // B dies: refused, so skipped
    expect([await ask(proxy), await ask(proxy)]).toEqual(['A', 'A']);
    proxy.setEnabled(0, false);
    expect(await ask(proxy)).toBe('reset');
    expect(proxy.backends.map((x) => x.accepted)).toEqual([4, 4]);
  });
});
