import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTransportType } from '@microsoft/signalr';
import { connectJobs } from './connect.js';

/**
 * Just enough of a hub at /hubs/jobs for the official client: negotiate offers only long polling,
 * the first poll opens, the handshake is answered on a poll, later polls wait until DELETE.
 */
function fakeLongPollingHub(): Promise<{ url: string; server: Server; authorization: (string | undefined)[]; requests: string[] }> {
  const authorization: (string | undefined)[] = [];
  const requests: string[] = [];
  const waiting: ServerResponse[] = [];
  const queued: string[] = [];
  let polls = 0;
  const deliver = (text: string) => {
    const res = waiting.shift();
    if (res) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(text);
    } else queued.push(text);
  };
  const body = (req: IncomingMessage) => new Promise<string>((r) => {
    let b = '';
    req.on('data', (d: Buffer) => (b += d.toString()));
    req.on('end', () => r(b));
  });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    authorization.push(req.headers.authorization);
    requests.push(`${req.method} ${path}`);
    if (path === '/hubs/jobs/negotiate') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ negotiateVersion: 1, connectionId: 'c1', connectionToken: 't1', availableTransports: [{ transport: 'LongPolling', transferFormats: ['Text', 'Binary'] }] }));
    } else if (path === '/hubs/jobs' && req.method === 'GET') {
      if (++polls === 1) {
        res.writeHead(200);
        res.end();
      } else if (queued.length) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(queued.shift());
      } else waiting.push(res);
    } else if (path === '/hubs/jobs' && req.method === 'POST') {
      void body(req).then((text) => {
        if (text.includes('"protocol"')) deliver('{}\u001e'); // handshake response
        res.writeHead(200);
        res.end();
      });
    } else if (path === '/hubs/jobs' && req.method === 'DELETE') {
      for (const w of waiting.splice(0)) {
        w.writeHead(204);
        w.end();
      }
      res.writeHead(202);
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, authorization, requests })));
}

describe('buildConnection (through connectJobs, against a minimal long-polling hub)', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('reports the transport the official client selected, and passes accessTokenFactory through', async () => {
    const hub = await fakeLongPollingHub();
    server = hub.server;
    let calls = 0;
    const jobs = connectJobs(hub.url, { accessTokenFactory: () => `token-${++calls}`, reconnectDelays: false, logger: { log: () => {} } });
    expect(jobs.state).toBe('connecting');
    await jobs.start();
    expect(jobs.state).toBe('connected');
    expect(jobs.transport).toBe('LongPolling');
    expect(hub.requests[0]).toBe('POST /hubs/jobs/negotiate');
    expect(hub.authorization[0]).toBe('Bearer token-1');
    expect(hub.authorization.slice(1).every((a) => a?.startsWith('Bearer token-'))).toBe(true); // every poll and send
    await jobs.stop();
    expect(jobs.state).toBe('disconnected');
    expect(jobs.transport).toBeUndefined();
  });

  it('with skipNegotiation it opens the WebSocket at once, without a negotiate request', async () => {
    const hub = await fakeLongPollingHub();
    server = hub.server;
    const jobs = connectJobs(hub.url, { transport: HttpTransportType.WebSockets, skipNegotiation: true, reconnectDelays: false, logger: { log: () => {} } });
    await expect(jobs.start()).rejects.toThrow(); // the fake has no WebSocket endpoint
    expect(hub.requests).toEqual(['GET /hubs/jobs']); // the upgrade request, no negotiate
    expect(jobs.state).toBe('disconnected');
  });
});
