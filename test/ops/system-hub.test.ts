import { randomBytes } from 'node:crypto';
import type { ChatClient, ConnectionInfo, SystemStats } from '@switchboard/contracts';
import { createHubContext } from '@switchboard/hub-context';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAll, waitFor } from '../faults/support.js';
import { api } from '../jobs/support.js';
import type { StartedProcess } from '../support/processes.js';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { clientPool, signalR } from '../support/signalr.js';
import { get, scrape, startHubNode, startWorkerProcess } from './support.js';

// The system hub over real processes: hub nodes A and B, workers one and two (one thread, one job
// at a time each), one private Redis. A client on node B must see, pushed about once a second,
// both hub nodes with their connection counts, both workers, and the queue.

/** Records every systemStats push a client gets, with its arrival time. */
function pushes(c: signalR.HubConnection): { at: number; stats: SystemStats }[] {
  const seen: { at: number; stats: SystemStats }[] = [];
  c.on('systemStats', (stats: SystemStats) => seen.push({ at: Date.now(), stats }));
  return seen;
}

describe('system hub /hubs/system: whoami, stats, live systemStats across nodes and workers', () => {
  const pool = clientPool();
  let redis: PrivateRedis;
  let a: StartedProcess;
  let b: StartedProcess;
  let one: StartedProcess;
  let two: StartedProcess;
  const prefix = uniquePrefix('system');

  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix };
    const secret = randomBytes(32).toString('base64');
    [a, b, one, two] = await startAll([
      startHubNode({ ...env, HUB_SECRET: secret, NODE_ID: 'hub-a' }),
      startHubNode({ ...env, HUB_SECRET: secret, NODE_ID: 'hub-b' }),
      // One job at a time each (the default is 50): the busy check below counts 2 active, 2 waiting.
      startWorkerProcess({ ...env, NODE_ID: 'worker-one', JOB_LOCK_MS: '30000', WORKER_CONCURRENCY: '1' }),
      startWorkerProcess({ ...env, NODE_ID: 'worker-two', JOB_LOCK_MS: '30000', WORKER_CONCURRENCY: '1' }),
    ]);
  });
  afterAll(async () => {
    await pool.stopAll();
    await Promise.all([a, b, one, two].map((p) => p?.stop('SIGKILL')));
    await redis?.stop();
  });

  it('whoami names the node, process, connection, transport and protocol that serve the caller', async () => {
    const onB = await pool.connect(`${b.url}/hubs/system`, { protocol: 'messagepack' });
    const onA = await pool.connect(`${a.url}/hubs/system`);
    expect(await onB.invoke<ConnectionInfo>('whoami')).toEqual({ nodeId: 'hub-b', pid: b.child.pid, connectionId: onB.connectionId, transport: 'WebSockets', protocol: 'messagepack' });
    expect(await onA.invoke<ConnectionInfo>('whoami')).toEqual({ nodeId: 'hub-a', pid: a.child.pid, connectionId: onA.connectionId, transport: 'WebSockets', protocol: 'json' });
    await Promise.all([onA.stop(), onB.stop()]);
  });

  it('a client on node B gets systemStats listing both nodes with their connections, both workers, the queue and the job rate', async () => {
    // Three chat connections on A (two JSON, one MessagePack), the watcher on B.
    await Promise.all([
      pool.connect(`${a.url}/hubs/chat`),
      pool.connect(`${a.url}/hubs/chat`),
      pool.connect(`${a.url}/hubs/chat`, { protocol: 'messagepack' }),
    ]);
    const watcher = await pool.connect(`${b.url}/hubs/system`);
    const seen = pushes(watcher);
    // Each node's figures are from its last heartbeat (at most a second old): wait for both.
    const count = (s: SystemStats, id: string) => s.hubNodes.find((n) => n.nodeId === id)?.connections;
    const shows = (s: SystemStats) => count(s, 'hub-a') === 3 && count(s, 'hub-b') === 1;
    await waitFor('a push showing hub-a with 3 connections and hub-b with 1', () => seen.some((p) => shows(p.stats)), 4000);
    const stats = seen.find((p) => shows(p.stats))!.stats;

    expect(stats.hubNodes.map((n) => n.nodeId)).toEqual(['hub-a', 'hub-b']);
    const [nodeA, nodeB] = stats.hubNodes;
    expect(nodeA).toMatchObject({ pid: a.child.pid, connections: 3, byTransport: { WebSockets: 3 }, byProtocol: { json: 2, messagepack: 1 } });
    expect(nodeB).toMatchObject({ pid: b.child.pid, connections: 1, byTransport: { WebSockets: 1 }, byProtocol: { json: 1 } });
    for (const n of stats.hubNodes) {
      expect(stats.at - n.seenAt).toBeLessThan(5000);
      expect(n.startedAt).toBeLessThan(stats.at);
    }
    expect(stats.workers.map((w) => [w.workerId, w.pid, w.poolSize, w.concurrency])).toEqual([
      ['worker-one', one.child.pid, 1, 1],
      ['worker-two', two.child.pid, 1, 1],
    ]);
    expect(stats.queue).toEqual({ waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 });
    expect(stats.jobsPerSecond).toBe(0);
  });

  it('each node reports how long sends took to reach it over Redis: per hub on /metrics, and p50 / p99 / max per node in systemStats', async () => {
    const watcher = await pool.connect(`${b.url}/hubs/system`);
    const seen = pushes(watcher);
    // The leader's systemStats push reaches the other node over Redis every second.
    const reported = (s: SystemStats) => s.hubNodes.some((n) => (n.backplaneDelay?.sends ?? 0) > 0);
    const push = await waitFor('a push where a node reports arrived sends', () => seen.find((p) => reported(p.stats)), 5000);
    for (const n of push.stats.hubNodes) {
      const d = n.backplaneDelay!;
      expect(d, n.nodeId).toBeDefined();
      if (!d.sends) continue;
      expect(d.p50Ms).toBeGreaterThanOrEqual(0);
      expect(d.p50Ms).toBeLessThanOrEqual(d.p99Ms);
      expect(d.p99Ms).toBeLessThanOrEqual(d.maxMs);
      expect(d.maxMs).toBeLessThan(2000); // loopback Redis
    }

    // A worker's hub context (here, in the test process) sending to the chat hub: node A, which
    // holds a chat connection, counts it under hub="chat", with a delay under a second.
    const chat = await pool.connect(`${a.url}/hubs/chat`);
    const got = new Promise<unknown[]>((resolve) => chat.on('ReceiveMessage', (...args: unknown[]) => resolve(args)));
    const before = await scrape(a.url);
    const ctx = createHubContext<ChatClient>({ hub: 'chat', redis: redis.url, prefix });
    try {
      await ctx.clients.all.ReceiveMessage('worker', 'timed');
      expect(await got).toEqual(['worker', 'timed']);
    } finally {
      await ctx.close();
    }
    const after = await scrape(a.url);
    const delta = (name: string, labels: Record<string, string>) => after.value(name, labels) - before.value(name, labels);
    expect(after.types.get('switchboard_backplane_delay_seconds')).toBe('histogram');
    expect(delta('switchboard_backplane_delay_seconds_count', { hub: 'chat' })).toBe(1);
    expect(delta('switchboard_backplane_delay_seconds_bucket', { hub: 'chat', le: '1' })).toBe(1);
    expect(delta('switchboard_backplane_delay_seconds_sum', { hub: 'chat' })).toBeLessThan(1);
    await chat.stop();
  });

  it('pushes about once a second, from one node: queue depths and busy workers while jobs wait, the finished-jobs rate afterwards', async () => {
    const watcher = await pool.connect(`${b.url}/hubs/system`);
    const seen = pushes(watcher);
    // Two long jobs occupy both workers; two more wait.
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await api(a.url, 'POST', '/api/jobs', JSON.stringify({ name: 'pipeline', data: { items: 10, delayMs: 1000 } }));
      expect(res.status).toBe(202);
      ids.push((res.body as { jobId: string }).jobId);
    }
    const busy = (s: SystemStats) => s.queue.active === 2 && s.queue.waiting === 2 && s.workers.every((w) => w.activeJobs === 1);
    await waitFor('a push with 2 active, 2 waiting, both workers busy', () => seen.some((p) => busy(p.stats)), 4000);

    // stats() answers the same view on request, from either node.
    const asked = await watcher.invoke<SystemStats>('stats');
    expect(asked.queue.active + asked.queue.waiting).toBe(4);
    expect(asked.workers.map((w) => w.workerId)).toEqual(['worker-one', 'worker-two']);

    // All four complete (~2 s each, two at a time); then the rate over the last 10 s shows them.
    // (Heartbeats are up to a second old, so the workers' activeJobs may lag the queue a little.)
    const done = (s: SystemStats) =>
      s.queue.completed === 4 && s.queue.active === 0 && s.queue.waiting === 0 && s.jobsPerSecond > 0 && s.workers.every((w) => w.activeJobs === 0);
    const finished = await waitFor('a push with 4 completed, idle workers and a job rate', () => seen.find((p) => done(p.stats)), 9000);
    expect(finished.stats.jobsPerSecond).toBeLessThanOrEqual(0.4); // 4 jobs over a 10 s window
    for (const id of ids) expect(((await api(a.url, 'GET', `/api/jobs/${id}`)).body as { state: string }).state).toBe('completed');

    // All along, pushed (this client never asked for them) by one node at a time, about once a
    // second: two pushing nodes would double the rate.
    expect(seen.length).toBeGreaterThanOrEqual(4);
    const perSecond = (seen.length - 1) / ((seen.at(-1)!.at - seen[0]!.at) / 1000);
    expect(perSecond).toBeGreaterThan(0.7);
    expect(perSecond).toBeLessThan(1.4);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.at - seen[i - 1]!.at).toBeLessThan(2000);

    // The same figures on the hub's /metrics (read at scrape time).
    const m = await scrape(b.url);
    expect(m.value('switchboard_queue_jobs', { state: 'completed' })).toBe(4);
    expect(m.value('switchboard_jobs_finished_per_second')).toBeGreaterThan(0);
  });

  it('a worker that stops leaves the view at once; a stopped leader hands the pushes to the other node', async () => {
    const watcher = await pool.connect(`${b.url}/hubs/system`);
    const seen = pushes(watcher);
    await two.stop('SIGTERM');
    await waitFor('worker-two gone', () => seen.some((p) => p.stats.workers.map((w) => w.workerId).join() === 'worker-one'), 3000);

    // Whichever node leads, stopping A must leave B pushing (B takes the lease A gave up).
    const stoppedAt = Date.now();
    expect(await a.stop('SIGTERM')).toBe(0);
    await waitFor('a push without hub-a', () => seen.some((p) => p.at > stoppedAt && p.stats.hubNodes.map((n) => n.nodeId).join() === 'hub-b'), 4000);
    const from = seen.length;
    await waitFor('B to keep pushing', () => seen.length > from, 2500);
    expect((await get(`${b.url}/readyz`)).status).toBe(200);
  });
});
