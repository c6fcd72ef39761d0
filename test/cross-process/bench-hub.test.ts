import { randomBytes } from 'node:crypto';
import { createHubContext, type HubContext } from '@switchboard/hub-context';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { record, waitFor } from '../faults/support.js';
import { startNodeProcess, type StartedProcess } from '../support/processes.js';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { clientPool, delay, type ProtocolName, type TransportName } from '../support/signalr.js';

// The benchmark hub as bench/README.md tells anyone to use it with their own load tool: hub
// nodes started with BENCH_HUB=1 serve /hubs/bench (server methods JoinGroup(name) and
// LeaveGroup(name), client method tick(payload)), and a publisher uses the ordinary hub context
// on hub 'bench'. Checked from outside, as a third party would: official clients, the public
// names only (the client interface is declared here, not imported from our contracts).

interface BenchTick {
  t: number;
  s: number;
  p: string;
}
interface BenchClient {
  tick(payload: BenchTick): void;
}

describe('the bench hub (BENCH_HUB=1) across two hub processes', () => {
  let redis: PrivateRedis;
  let nodeA: StartedProcess;
  let nodeB: StartedProcess;
  let plain: StartedProcess;
  let ctx: HubContext<BenchClient>;
  const prefix = uniquePrefix('bench-hub');
  const pool = clientPool();

  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, HUB_SECRET: randomBytes(32).toString('base64'), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn' };
    [nodeA, nodeB, plain] = await Promise.all([
      startNodeProcess('apps/hub/dist/main.js', { ...env, BENCH_HUB: '1' }),
      startNodeProcess('apps/hub/dist/main.js', { ...env, BENCH_HUB: '1' }),
      startNodeProcess('apps/hub/dist/main.js', env),
    ]);
    ctx = createHubContext<BenchClient>({ hub: 'bench', redis: redis.url, prefix });
  });
  afterEach(() => pool.stopAll());
  afterAll(async () => {
    await ctx?.close();
    await Promise.all([nodeA?.stop(), nodeB?.stop(), plain?.stop()]);
    await redis?.stop();
  });

  const clients: [string, ProtocolName, TransportName][] = [
    ['A', 'json', 'WebSockets'],
    ['B', 'messagepack', 'WebSockets'],
    // Server-Sent Events carry text only: MessagePack (binary) goes over long polling.
    ['A', 'json', 'ServerSentEvents'],
    ['B', 'messagepack', 'LongPolling'],
  ];

  it('JoinGroup, then clients.group(name).tick(payload) from another process reaches every member on both nodes, and only them; LeaveGroup stops it', async () => {
    const members = await Promise.all(clients.map(([node, protocol, transport]) => pool.connect(`${(node === 'A' ? nodeA : nodeB).url}/hubs/bench`, { protocol, transport })));
    const outsider = await pool.connect(`${nodeB.url}/hubs/bench`);
    await Promise.all(members.map((c) => c.invoke('JoinGroup', 'g1')));
    await outsider.invoke('JoinGroup', 'g2');
    const got = members.map((c) => record(c, 'tick'));
    const outsiderGot = record(outsider, 'tick');

    const ticks = [1, 2, 3].map((s) => ({ t: 1000.5 + s, s, p: 'x'.repeat(s) }));
    for (const tick of ticks) await ctx.clients.group('g1').tick(tick);
    await waitFor('every member has three ticks', () => got.every((g) => g.length >= 3), 5000);
    await delay(200);
    for (const [i, g] of got.entries()) expect(g, `member ${clients[i]!.join(' ')}`).toEqual(ticks.map((tick) => [tick]));
    expect(outsiderGot).toEqual([]);

    // g2 reaches the outsider only.
    await ctx.clients.group('g2').tick({ t: 1, s: 99, p: '' });
    await waitFor('the outsider has its tick', () => outsiderGot.length === 1, 5000);
    expect(outsiderGot).toEqual([[{ t: 1, s: 99, p: '' }]]);

    // After LeaveGroup, a member gets nothing more; the others still do.
    await members[0]!.invoke('LeaveGroup', 'g1');
    await ctx.clients.group('g1').tick({ t: 2, s: 4, p: '' });
    await waitFor('the remaining members have the fourth tick', () => got.slice(1).every((g) => g.length === 4), 5000);
    await delay(200);
    expect(got[0]).toHaveLength(3);
  });

  it('refuses a group name that is not a string of 1 to 200 characters with a clear error, and the connection goes on', async () => {
    const c = await pool.connect(`${nodeA.url}/hubs/bench`);
    await expect(c.invoke('JoinGroup', '')).rejects.toThrow(/group name must be a string of 1 to 200 characters/);
    await expect(c.invoke('JoinGroup', 42)).rejects.toThrow(/group name must be a string/);
    await expect(c.invoke('LeaveGroup', 'y'.repeat(201))).rejects.toThrow(/1 to 200 characters/);
    await expect(c.invoke('JoinGroup', 'ok')).resolves.toBeUndefined();
  });

  it('is not served without BENCH_HUB=1 (404 at negotiate), while the other hubs are', async () => {
    const bench = await fetch(`${plain.url}/hubs/bench/negotiate?negotiateVersion=1`, { method: 'POST' });
    expect(bench.status).toBe(404);
    const chat = await fetch(`${plain.url}/hubs/chat/negotiate?negotiateVersion=1`, { method: 'POST' });
    expect(chat.status).toBe(200);
  });
});
