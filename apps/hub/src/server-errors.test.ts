import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { Logger } from '@switchboard/hub-server';
import { afterEach, describe, expect, it } from 'vitest';
import { watchServerErrors } from './server-errors.js';

interface Line {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly msg: string;
}

function capture(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (fields: object, msg = '') => void lines.push({ level, fields: fields as Record<string, unknown>, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** What libuv's accept failures look like once Node turned them into an error (net.js onconnection). */
function acceptError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`accept ${code}`), { code, errno: -24, syscall: 'accept' });
}

const listen = (server: NetServer, port = 0): Promise<number> =>
  new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));

describe("the hub node's server 'error' listeners", () => {
  const servers: NetServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  function hubLikeServer(): Server {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"ok"}');
    });
    servers.push(server);
    return server;
  }

  it('once listening: an accept error is logged at warn and the node goes on serving', async () => {
    const logger = capture();
    const exits: number[] = [];
    const server = hubLikeServer();
    watchServerErrors(server, { logger, port: 0, host: '127.0.0.1', exit: (code) => void exits.push(code) });
    const port = await listen(server);

    // Without a listener this emit would throw (and end the process).
    server.emit('error', acceptError('ENFILE'));
    server.emit('error', acceptError('EMFILE'));

    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
    expect(res.status).toBe(200);
    expect(server.listening).toBe(true);
    expect(exits).toEqual([]);
    // The first is logged at once; the second waits for the end of the 10 s interval.
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({ level: 'warn', fields: { code: 'ENFILE', syscall: 'accept', error: 'accept ENFILE', suppressed: 0 } });
    expect(logger.lines[0]!.fields['hint']).toMatch(/fs\.file-max/);
  });

  it('accept errors: at most one line per interval, with the count of the ones in between', async () => {
    const logger = capture();
    let now = 1_000_000;
    const server = hubLikeServer();
    watchServerErrors(server, { logger, port: 0, host: '127.0.0.1', exit: () => {}, intervalMs: 40, now: () => now });
    const port = await listen(server);

    server.emit('error', acceptError('EMFILE'));
    for (let i = 0; i < 5; i++) server.emit('error', acceptError(i === 4 ? 'ENOBUFS' : 'EMFILE'));
    expect(logger.lines).toHaveLength(1);
    // The interval ends: one line for the five held back, naming the latest.
    now += 40;
    await new Promise((r) => setTimeout(r, 80));
    expect(logger.lines).toHaveLength(2);
    expect(logger.lines[1]).toMatchObject({ level: 'warn', fields: { code: 'ENOBUFS', suppressed: 5 } });
    expect(logger.lines[1]!.msg).toMatch(/failed 5 more times since the last line/);
    // Quiet afterwards: no line; a later error is logged at once again.
    now += 1000;
    server.emit('error', acceptError('EMFILE'));
    expect(logger.lines).toHaveLength(3);
    expect(logger.lines[2]).toMatchObject({ fields: { code: 'EMFILE', suppressed: 0 } });
    expect(logger.lines[2]!.fields['hint']).toMatch(/ulimit -n/);
    expect((await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) })).status).toBe(200);
  });

  it('before listening: a failed listen is one error line naming the port and what to do, then exit 1', async () => {
    const taken = createNetServer();
    servers.push(taken);
    const port = await listen(taken);
    const logger = capture();
    const exited = new Promise<number>((resolve) => {
      const server = hubLikeServer();
      watchServerErrors(server, { logger, port, host: '127.0.0.1', exit: resolve });
      server.listen(port, '127.0.0.1');
    });
    expect(await exited).toBe(1);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({ level: 'error', fields: { code: 'EADDRINUSE', syscall: 'listen', port, host: '127.0.0.1' } });
    expect(logger.lines[0]!.msg).toBe(`cannot listen on 127.0.0.1:${port}: port ${port} is already in use: stop the process that holds it (\`ss -ltnp 'sport = :${port}'\` shows it) or set PORT to a free port`);
  });
});
