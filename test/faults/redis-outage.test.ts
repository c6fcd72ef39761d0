import { randomBytes } from 'node:crypto';
import { createHubContext, type HubContext } from '@switchboard/hub-context';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodeProcess, type StartedProcess } from '../support/processes.js';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { clientPool, signalR } from '../support/signalr.js';
import { isIsoTime, isRunning, record, startAll, startProcessUntil, timed, waitFor } from './support.js';

// Issue: "Kill and restart redis-server during a run: nodes stay up, local traffic keeps flowing,
// and cross-node traffic resumes after Redis returns, with subscriptions restored."
// Two real `apps/hub` processes and the clock worker share a private redis-server, which is
// SIGKILLed and started again on the same port. The `it`s are steps of one scenario, in order.

interface ClockClient {
  onTimeReceived(time: string): void;
}

type Hub = signalR.HubConnection;
const has = (calls: unknown[][], ...args: unknown[]) => calls.some((c) => c.length === args.length && c.every((v, i) => v === args[i]));
const texts = (calls: unknown[][]) => calls.map((c) => c[c.length - 1]);

/** Sends chat probes from `from` until one reaches `to` (bounded). */
async function crosses(from: signalR.HubConnection, to: unknown[][], label: string, timeoutMs = 8000): Promise<void> {
  let n = 0;
  await waitFor(
    `${label} to cross nodes`,
    async () => {
      const text = `${label} ${++n}`;
      if (!(await from.invoke('SendMessage', 'probe', text).then(() => true, () => false))) return false;
      return waitFor(text, () => has(to, 'probe', text), 300).then(() => true, () => false);
    },
    timeoutMs,
    100,
  );
}

/** How long Redis stays down: several failed reconnect attempts (the backoff grows to 2 s). */
const OUTAGE_MS = 2500;
// Before the node notices the lost connection the publish fails on the dead socket ("Publishing to
// Redis failed (...)"); afterwards it is refused up front ("Redis is unreachable (reconnecting)").
const OUTAGE_ERROR = /HubException: SB_BACKPLANE_UNAVAILABLE: (Redis is unreachable|Publishing to Redis failed) .*the message did not reach other hub nodes/;

describe('Redis outage: kill and restart redis-server under two hub node processes and the clock worker', () => {
  const secret = randomBytes(32).toString('base64');
  const prefix = uniquePrefix('outage');
  const pool = clientPool();
  let redis: PrivateRedis;
  let nodeA: StartedProcess;
  let nodeB: StartedProcess;
  let worker: StartedProcess;
  let ctx: HubContext<ClockClient>;
  let pids: (number | undefined)[];
  // chat: a1, a2 on node A; b1 on node B. Each `rec*` holds the ReceiveMessage calls seen.
  let a1: Hub, a2: Hub, b1: Hub;
  let recA1: unknown[][], recA2: unknown[][], recB1: unknown[][];
  // clock: clockA on node A, clockB on node B (both in group 'before-outage'); clockA2 joins during the outage.
  let clockA: Hub, clockB: Hub, clockA2: Hub;
  let timeA: unknown[][], timeB: unknown[][], timeA2: unknown[][];
  // chat client connected to node A during the outage
  let a3: Hub;
  let recA3: unknown[][];
  let killedAt: number;

  beforeAll(async () => {
    redis = await startRedis();
    const env = { PORT: '0', HOST: '127.0.0.1', HUB_SECRET: secret, LOG_LEVEL: 'warn', REDIS_URL: redis.url, REDIS_PREFIX: prefix };
    [nodeA, nodeB, worker] = (await startAll([
      startNodeProcess('apps/hub/dist/main.js', env),
      startNodeProcess('apps/hub/dist/main.js', env),
      startProcessUntil('apps/clock-worker/dist/main.js', { REDIS_URL: redis.url, REDIS_PREFIX: prefix, INTERVAL_MS: '100' }, /clock-worker: publishing onTimeReceived every 100 ms/),
    ])) as [StartedProcess, StartedProcess, StartedProcess];
    pids = [nodeA, nodeB, worker].map((p) => p.child.pid);
    ctx = createHubContext<ClockClient>({ hub: 'clock', redis: redis.url, prefix });
    [a1, a2, b1, clockA, clockB] = await Promise.all([
      pool.connect(`${nodeA.url}/hubs/chat`),
      pool.connect(`${nodeA.url}/hubs/chat`, { protocol: 'messagepack' }),
      pool.connect(`${nodeB.url}/hubs/chat`),
      pool.connect(`${nodeA.url}/hubs/clock`),
      pool.connect(`${nodeB.url}/hubs/clock`, { protocol: 'messagepack' }),
    ]);
    [recA1, recA2, recB1] = [a1, a2, b1].map((c) => record(c, 'ReceiveMessage')) as [unknown[][], unknown[][], unknown[][]];
    [timeA, timeB] = [clockA, clockB].map((c) => record(c, 'onTimeReceived')) as [unknown[][], unknown[][]];
  });

  afterAll(async () => {
    await pool.stopAll();
    await ctx?.close();
    await Promise.all([nodeA?.stop(), nodeB?.stop(), worker?.stop()]);
    await redis?.stop();
  });

  it('before the outage: chat crosses nodes both ways, the worker reaches both nodes, a group spans both nodes', async () => {
    await a1.invoke('SendMessage', 'ana', 'before A->B');
    await b1.invoke('SendMessage', 'bob', 'before B->A');
    await waitFor('chat on both nodes', () => [recA1, recA2, recB1].every((r) => has(r, 'ana', 'before A->B') && has(r, 'bob', 'before B->A')));
    await waitFor('the worker time on both nodes', () => timeA.some(([t]) => isIsoTime(t)) && timeB.some(([t]) => isIsoTime(t)));
    // Group members on both nodes, added from this process (which holds neither connection).
    await ctx.groups.add(clockA.connectionId!, 'before-outage');
    await ctx.groups.add(clockB.connectionId!, 'before-outage');
    await ctx.clients.group('before-outage').onTimeReceived('group before');
    await waitFor('the group send on both nodes', () => has(timeA, 'group before') && has(timeB, 'group before'));
  });

  it('Redis killed: nodes stay up, local chat flows, and SendMessage fails at once saying Redis is unreachable', async () => {
    await redis.kill();
    killedAt = Date.now();
    const fromA = await timed(a1.invoke('SendMessage', 'ana', 'during outage A'));
    expect(fromA.error?.message).toMatch(OUTAGE_ERROR);
    expect(fromA.error?.message).toMatch(/^An unexpected error occurred invoking 'SendMessage' on the server\. HubException: /);
    expect(fromA.ms).toBeLessThan(2000);
    // Local-first: the other client on node A (and the sender) still got it.
    await waitFor('local delivery on node A', () => has(recA2, 'ana', 'during outage A') && has(recA1, 'ana', 'during outage A'));

    // The same on node B, for its own clients.
    const fromB = await timed(b1.invoke('SendMessage', 'bob', 'during outage B'));
    expect(fromB.error?.message).toMatch(OUTAGE_ERROR);
    expect(fromB.ms).toBeLessThan(2000);
    await waitFor('local delivery on node B', () => has(recB1, 'bob', 'during outage B'));

    // A hub context fails fast too, with the code.
    const fromCtx = await timed(ctx.clients.all.onTimeReceived('during outage'));
    expect(fromCtx.error).toMatchObject({ code: 'SB_BACKPLANE_UNAVAILABLE' });
    expect(fromCtx.ms).toBeLessThan(2000);

    expect([nodeA, nodeB, worker].map(isRunning)).toEqual([true, true, true]);
    for (const c of [a1, a2, b1, clockA, clockB]) expect(c.state).toBe(signalR.HubConnectionState.Connected);
    // Nothing crossed nodes.
    expect(has(recB1, 'ana', 'during outage A')).toBe(false);
    expect(has(recA1, 'bob', 'during outage B')).toBe(false);
  });

  it('Redis killed: new clients still connect to node A and get local traffic; the worker keeps running', async () => {
    const connecting = await timed(Promise.all([pool.connect(`${nodeA.url}/hubs/chat`), pool.connect(`${nodeA.url}/hubs/clock`)]));
    expect(connecting.error).toBeUndefined();
    expect(connecting.ms).toBeLessThan(2000);
    [a3, clockA2] = connecting.value!;
    recA3 = record(a3, 'ReceiveMessage');
    timeA2 = record(clockA2, 'onTimeReceived');

    const send = await timed(a3.invoke('SendMessage', 'cy', 'during outage from a new client'));
    expect(send.error?.message).toMatch(OUTAGE_ERROR);
    await waitFor('local delivery to old and new clients', () => [recA1, recA2, recA3].every((r) => has(r, 'cy', 'during outage from a new client')));

    await waitFor('the worker to report the outage', () => /clock-worker: Redis is unreachable/.test(worker.output()), 3000);
    expect(isRunning(worker)).toBe(true);
    // Its ticks reach no node while Redis is down.
    const seen = [timeA.length, timeB.length, timeA2.length];
    await new Promise((r) => setTimeout(r, 300));
    expect([timeA.length, timeB.length, timeA2.length]).toEqual(seen);
  });

  it('Redis back: cross-node chat, the worker and every subscription resume, without restarting anything', async () => {
    // Keep Redis down long enough for several failed reconnect attempts (backoff up to 2 s).
    await new Promise((r) => setTimeout(r, Math.max(0, killedAt + OUTAGE_MS - Date.now())));
    await redis.restart();
    const restartedAt = Date.now();

    // Probe until chat crosses again each way (each node reconnects on its own backoff).
    await Promise.all([crosses(a1, recB1, 'probe A->B'), crosses(b1, recA1, 'probe B->A')]);
    expect(Date.now() - restartedAt).toBeLessThan(8000);

    // Both directions, all clients, including the one that connected during the outage.
    await a1.invoke('SendMessage', 'ana', 'after A->B');
    await b1.invoke('SendMessage', 'bob', 'after B->A');
    await waitFor('chat both ways after the outage', () =>
      [recA1, recA2, recA3, recB1].every((r) => has(r, 'ana', 'after A->B') && has(r, 'bob', 'after B->A')),
    );

    // The worker's ticks arrive again on both nodes, and new connections too.
    const fresh = (calls: unknown[][]) => calls.some(([t]) => isIsoTime(t) && Date.parse(t as string) >= restartedAt);
    await waitFor('worker ticks after the restart on both nodes', () => fresh(timeA) && fresh(timeB) && fresh(timeA2), 5000);
    await waitFor('the worker to log its recovery', () => worker.output().includes('clock-worker: Redis is reachable again'), 3000);

    // This process's hub context publishes again (its own connection reconnects too).
    await waitFor('the hub context to publish again', () => ctx.clients.all.onTimeReceived('ctx probe').then(() => true, () => false), 5000, 100);
    await ctx.clients.all.onTimeReceived('all after');
    // The group existed before the outage: its members on both nodes are still subscribed.
    await ctx.clients.group('before-outage').onTimeReceived('group after');
    // Connection channels: from before the outage (B) and from during it (A2).
    await ctx.clients.client(clockB.connectionId!).onTimeReceived('clockB after');
    await ctx.clients.client(clockA2.connectionId!).onTimeReceived('clockA2 after');
    // A group change for a connection subscribed during the outage reaches its node.
    await ctx.groups.add(clockA2.connectionId!, 'after-outage');
    await ctx.clients.group('after-outage').onTimeReceived('new group after');
    await waitFor('hub context sends after the outage', () =>
      has(timeA, 'all after') && has(timeB, 'all after') && has(timeA2, 'all after') &&
      has(timeA, 'group after') && has(timeB, 'group after') &&
      has(timeB, 'clockB after') && has(timeA2, 'clockA2 after') && has(timeA2, 'new group after'),
    );
    await new Promise((r) => setTimeout(r, 200));
    const labels = (calls: unknown[][]) => texts(calls).filter((t) => typeof t === 'string' && t.endsWith(' after'));
    expect(labels(timeA)).toEqual(['all after', 'group after']);
    expect(labels(timeB)).toEqual(['all after', 'group after', 'clockB after']);
    expect(labels(timeA2)).toEqual(['all after', 'clockA2 after', 'new group after']);

    // Nothing sent during the outage was queued and replayed.
    expect(has(recB1, 'ana', 'during outage A')).toBe(false);
    expect(has(recB1, 'cy', 'during outage from a new client')).toBe(false);
    expect(has(recA1, 'bob', 'during outage B')).toBe(false);
    expect(has(timeA, 'during outage') || has(timeB, 'during outage')).toBe(false);

    // Same processes, same connections.
    expect([nodeA, nodeB, worker].map((p) => p.child.pid)).toEqual(pids);
    expect([nodeA, nodeB, worker].map(isRunning)).toEqual([true, true, true]);
    for (const c of [a1, a2, a3, b1, clockA, clockB, clockA2]) expect(c.state).toBe(signalR.HubConnectionState.Connected);
  });
});
