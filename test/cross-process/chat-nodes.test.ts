import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNodeProcess, type StartedProcess } from '../support/processes.js';
import { PROTOCOLS, clientPool, nextCalls } from '../support/signalr.js';

// Two real `apps/hub` processes, as `npm run hub` starts them, sharing one HUB_SECRET.
describe('apps/hub processes', () => {
  const secret = randomBytes(32).toString('base64');
  let a: StartedProcess;
  let b: StartedProcess;
  let other: StartedProcess;
  const pool = clientPool();

  beforeAll(async () => {
    [a, b, other] = await Promise.all([
      startNodeProcess('apps/hub/dist/main.js', { PORT: '0', HOST: '127.0.0.1', HUB_SECRET: secret, LOG_LEVEL: 'warn' }),
      startNodeProcess('apps/hub/dist/main.js', { PORT: '0', HOST: '127.0.0.1', HUB_SECRET: secret, LOG_LEVEL: 'warn' }),
      startNodeProcess('apps/hub/dist/main.js', { PORT: '0', HOST: '127.0.0.1', HUB_SECRET: randomBytes(32).toString('base64'), LOG_LEVEL: 'warn' }),
    ]);
  });
  afterEach(() => pool.stopAll());
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), other?.stop()]);
  });

  it.each(PROTOCOLS)('chat: every client on the node receives ReceiveMessage exactly once (%s)', async (protocol) => {
    const clients = await Promise.all([0, 1, 2].map(() => pool.connect(`${a.url}/hubs/chat`, { protocol })));
    const received = clients.map((c) => nextCalls(c, 'ReceiveMessage', 1));
    const extra: unknown[][] = [];
    clients[2]!.on('ReceiveMessage', (...args: unknown[]) => extra.push(args));
    await clients[0]!.invoke('SendMessage', 'ana', 'hello ☃');
    for (const r of await Promise.all(received)) expect(r).toEqual([['ana', 'hello ☃']]);
    await new Promise((r) => setTimeout(r, 100));
    expect(extra).toHaveLength(1);
  });

  it('chat refuses arguments of the wrong type with a clear error', async () => {
    const c = await pool.connect(`${a.url}/hubs/chat`);
    await expect(c.invoke('SendMessage', 42, {})).rejects.toThrow(/SendMessage takes two strings/);
    await expect(c.invoke('SendMessage', 'still', 'works')).resolves.toBeUndefined();
  });

  async function negotiate(base: string): Promise<{ connectionId: string; connectionToken: string }> {
    const res = await fetch(`${base}/hubs/chat/negotiate?negotiateVersion=1`, { method: 'POST' });
    expect(res.status).toBe(200);
    return (await res.json()) as { connectionId: string; connectionToken: string };
  }

  function openWs(base: string, token: string): Promise<{ status: number; ws?: WebSocket }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/hubs/chat?id=${token}`);
      ws.once('open', () => resolve({ status: 101, ws }));
      ws.once('unexpected-response', (_req, res) => {
        resolve({ status: res.statusCode ?? 0 });
        ws.terminate();
      });
      ws.once('error', (err) => {
        if (!String(err.message).includes('Unexpected server response')) reject(err);
      });
    });
  }

  it('a token minted by one process is accepted by another with the same HUB_SECRET', async () => {
    const { connectionToken } = await negotiate(a.url);
    const { status, ws } = await openWs(b.url, connectionToken);
    expect(status).toBe(101);
    const reply = new Promise<string>((resolve) => ws!.once('message', (d) => resolve(d.toString())));
    ws!.send('{"protocol":"json","version":1}\u001e');
    expect(await reply).toBe('{}\u001e');
    const echo = new Promise<string>((resolve) => ws!.on('message', (d) => resolve(d.toString())));
    ws!.send('{"type":1,"invocationId":"7","target":"SendMessage","arguments":["x","y"]}\u001e');
    const frames = await echo;
    expect(frames).toContain('"target":"ReceiveMessage"');
    ws!.close();
  });

  it('refuses tokens from another secret, altered tokens and the public connectionId (404)', async () => {
    const { connectionId, connectionToken } = await negotiate(a.url);
    const foreign = await negotiate(other.url);
    const altered = connectionToken.slice(0, 10) + (connectionToken[10] === 'A' ? 'B' : 'A') + connectionToken.slice(11);
    for (const token of [connectionId, foreign.connectionToken, altered]) {
      expect((await openWs(b.url, token)).status).toBe(404);
    }
  });
});
