import { createServer, type Server } from 'node:http';
import { defineHub, HubServer } from '@switchboard/hub-server';
import { afterEach, describe, expect, it } from 'vitest';
import { capturingLogger, TEST_SECRET } from './fixture.js';

/** What Node emits on a listening server when accepting a connection fails (net.js onconnection). */
function acceptError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`accept ${code}`), { code, syscall: 'accept' });
}

describe('HubServer.attach: accept errors on the HTTP server', () => {
  const servers: Server[] = [];
  const hubs: HubServer[] = [];
  afterEach(async () => {
    await Promise.all(hubs.splice(0).map((h) => h.close()));
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  function attached(): { server: Server; logs: ReturnType<typeof capturingLogger> } {
    const logs = capturingLogger();
    const hub = new HubServer({ secret: TEST_SECRET, logger: logs });
    hub.mapHub('/hubs/chat', defineHub()({ methods: {} }));
    const server = createServer();
    hub.attach(server);
    hubs.push(hub);
    servers.push(server);
    return { server, logs };
  }

  it('are logged at warn, and the server goes on serving', async () => {
    const { server, logs } = attached();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

    server.emit('error', acceptError('EMFILE'));
    server.emit('error', acceptError('EMFILE'));

    expect(server.listening).toBe(true);
    const res = await fetch(`${base}/hubs/chat/negotiate?negotiateVersion=1`, { method: 'POST', signal: AbortSignal.timeout(2000) });
    expect(res.status).toBe(200);
    const lines = logs.find('accepting a connection failed');
    expect(lines).toHaveLength(1); // the second waits for the end of the interval
    expect(lines[0]).toMatchObject({ level: 'warn', obj: { code: 'EMFILE', syscall: 'accept', suppressed: 0 } });
  });

  it("leave errors of listen itself to the app: thrown when attach's listener is the only one", () => {
    const { server } = attached();
    const inUse = Object.assign(new Error('listen EADDRINUSE: address already in use'), { code: 'EADDRINUSE', syscall: 'listen' });
    expect(() => server.emit('error', inUse)).toThrow(inUse);
    const seen: Error[] = [];
    server.on('error', (err) => seen.push(err));
    expect(() => server.emit('error', inUse)).not.toThrow();
    expect(seen).toEqual([inUse]);
  });
});
