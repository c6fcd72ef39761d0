// No sticky sessions: Server-Sent Events and long polling through a round-robin TCP proxy in front
// of two hub node processes over a private Redis, as `npm start` runs them (node:cluster also
// balances per TCP connection). The official client's requests of one connection land on both
// nodes; the node that did not create the connection forwards them through the backplane.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACT_NODE_SCRIPT } from '../backplane/nodes.js';
import { startNodeProcess, type StartedProcess } from '../support/processes.js';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { buildClient, clientPool, collectStream, nextCalls, signalR, type ProtocolName } from '../support/signalr.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/tcp-proxy.js';
import { within } from '../support/timing.js';

const HUB = '/hubs/contract';
const FORWARDED = 'forwarded a transport request to the node holding the connection';
/** TEST ONLY header the contract node answers with `Connection: close` (see contract-node.ts). */
const ONE_REQUEST_PER_CONNECTION = { 'x-test-close-connection': '1' };
const PAIRS: readonly (readonly ['ServerSentEvents' | 'LongPolling', ProtocolName])[] = [
  ['ServerSentEvents', 'json'],
  ['LongPolling', 'json'],
  ['LongPolling', 'messagepack'],
];

/** JSON log lines of a node process with `msg` containing `text` and the given connection id. */
function logLines(node: StartedProcess, text: string, connectionId: string): Record<string, unknown>[] {
  return node
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(connectionId))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => String(e['msg']).includes(text) && e['connectionId'] === connectionId);
}

async function until(condition: () => boolean, what: string, ms = 4000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startNodes(redis: PrivateRedis, longPollTimeoutMs: number, disconnectTimeoutMs = 15_000): Promise<[StartedProcess, StartedProcess]> {
  const env = {
    REDIS_URL: redis.url,
    REDIS_PREFIX: uniquePrefix('http-transports'),
    HUB_SECRET: randomBytes(32).toString('base64'),
    PORT: '0',
    LOG_LEVEL: 'debug',
    LONG_POLL_TIMEOUT_MS: String(longPollTimeoutMs),
    DISCONNECT_TIMEOUT_MS: String(disconnectTimeoutMs),
  };
  const started = await Promise.allSettled([startNodeProcess(CONTRACT_NODE_SCRIPT, env), startNodeProcess(CONTRACT_NODE_SCRIPT, env)]);
  const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (ok.length !== 2) {
    await Promise.all(ok.map((p) => p.stop()));
    throw (started.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason;
  }
  return ok as [StartedProcess, StartedProcess];
}

describe('SSE and long polling through a round-robin proxy in front of two hub processes (Redis)', () => {
  let redis: PrivateRedis;
  let nodes: [StartedProcess, StartedProcess];
  let proxy: RoundRobinProxy;
  const pool = clientPool();

  beforeAll(async () => {
    redis = await startRedis();
    nodes = await startNodes(redis, 2000);
    proxy = await startRoundRobinProxy(nodes.map((n) => n.url));
  });
  afterEach(() => pool.stopAll());
  afterAll(async () => {
    await pool.stopAll();
    await proxy?.close();
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await redis?.stop();
  });

  const byPid = (pid: number) => nodes.find((n) => n.child.pid === pid)!;

  describe.each(PAIRS)('%s (%s)', (transport, protocol) => {
    it.each([
      ['one request per TCP connection: both nodes serve the connection', ONE_REQUEST_PER_CONNECTION],
      ['keep-alive connections, as the client uses them by default', {}],
    ] as const)('%s: invoke, streams, sends from another node, client results, stop', async (mode, headers) => {
      const c = await within(pool.connect(`${proxy.url}${HUB}`, { transport, protocol, headers }), 5000, 'start');
      c.on('Answer', (question: string) => `answer to ${question}`);
      const id = c.connectionId!;
      const who = (await within(c.invoke('WhoAmI'))) as { connectionId: string; protocol: string };
      expect(who).toMatchObject({ connectionId: id, protocol });
      const owner = byPid((await within(c.invoke('NodePid'))) as number);
      const other = nodes.find((n) => n !== owner)!;
      expect(owner).toBeDefined();
      expect(await within(collectStream(c.stream('Count', 5)))).toEqual([0, 1, 2, 3, 4]);
      const toMe = nextCalls(c, 'Receive', 1, 5000);
      await within(c.invoke('ToCaller', 'to me'));
      expect(await toMe).toEqual([['to me']]);

      // A WebSocket client on the other node sends to this connection and asks it for a result.
      const peer = await pool.connect(`${other.url}${HUB}`);
      expect(byPid((await within(peer.invoke('NodePid'))) as number)).toBe(other);
      const fromPeer = nextCalls(c, 'Receive', 1, 5000);
      await within(peer.invoke('ToClient', id, 'across nodes'));
      expect(await fromPeer).toEqual([['across nodes']]);
      expect(await within(peer.invoke('Ask', id, 'q?'))).toBe('answer to q?');

      const closed = within(new Promise<Error | undefined>((resolve) => c.onclose(resolve)), 5000, 'onclose');
      await within(c.stop());
      expect(await closed).toBeUndefined();
      await until(() => logLines(owner, 'connection closed', id).length === 1, 'the owner to log the connection closed');

      // Where the requests went: the connection lived on the owner only...
      expect(logLines(owner, 'connection opened', id)).toEqual([expect.objectContaining({ transport, protocol })]);
      expect(logLines(other, 'connection opened', id)).toEqual([]);
      // ...and the other node served some of its requests by forwarding them (guaranteed when every
      // request opens a new TCP connection; left to chance with keep-alive).
      const forwarded = logLines(other, FORWARDED, id);
      if (mode.startsWith('one request')) expect(forwarded.length).toBeGreaterThan(0);
      expect(logLines(owner, FORWARDED, id)).toEqual([]);
    });
  });

  it('both nodes accepted connections from the proxy, and neither logged an error', () => {
    expect(proxy.backends.map((b) => b.accepted > 0)).toEqual([true, true]);
    const errors = nodes.flatMap((n) => n.output().split('\n').filter((l) => l.startsWith('{') && (JSON.parse(l) as { level: number }).level >= 50));
    expect(errors).toEqual([]);
  });
});

describe('when the node holding a long-polling connection dies', () => {
  it('the client reconnects through the proxy to the surviving node', async () => {
    const redis = await startRedis();
    const pool = clientPool();
    let nodes: StartedProcess[] = [];
    let proxy: RoundRobinProxy | undefined;
    try {
      // A token opens a connection only within disconnectTimeoutMs of negotiate (1 s here): after
      // that, a poll for a connection no node holds gets 404 instead of opening a new one.
      nodes = await startNodes(redis, 1000, 1000);
      proxy = await startRoundRobinProxy(nodes.map((n) => n.url));
      const c = pool.track(
        buildClient(`${proxy.url}${HUB}`, { transport: 'LongPolling', headers: ONE_REQUEST_PER_CONNECTION, reconnect: [0, 200, 500, 1000, 1000, 1000, 1000, 1000] }),
      );
      await within(c.start());
      const firstId = c.connectionId!;
      const ownerPid = (await within(c.invoke('NodePid'))) as number;
      const dead = nodes.find((n) => n.child.pid === ownerPid)!;
      await new Promise((r) => setTimeout(r, 1200));
      expect(dead).toBeDefined();
      const survivor = nodes.find((n) => n !== dead)!;
      const reconnected = within(new Promise<string | undefined>((resolve) => c.onreconnected(resolve)), 12_000, 'onreconnected');
      await dead.stop('SIGKILL');
      // Requests of the old connection fail (404 or 503 from the survivor, or a reset from the dead
      // node); the client notices and negotiates a new connection.
      await expect(within(c.invoke('WhoAmI'), 12_000, 'a call on the old connection')).rejects.toThrow();
      const newId = await reconnected;
      expect(newId).not.toBe(firstId);
      expect(c.state).toBe(signalR.HubConnectionState.Connected);
      expect(await within(c.invoke('NodePid'))).toBe(survivor.child.pid);
      expect(((await within(c.invoke('WhoAmI'))) as { connectionId: string }).connectionId).toBe(newId);
    } finally {
      await pool.stopAll();
      await proxy?.close();
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.stop();
    }
  });
});
