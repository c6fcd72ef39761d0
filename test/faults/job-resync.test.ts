import { randomBytes } from 'node:crypto';
import type { JobUpdate } from '@switchboard/contracts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../jobs/support.js';
import { startHubNode, startWorkerProcess } from '../ops/support.js';
import type { StartedProcess } from '../support/processes.js';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { clientPool } from '../support/signalr.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../support/tcp-proxy.js';
import { startAll, waitFor } from './support.js';

// A hub node loses its Redis connection (a network cut, a Redis failover) while its browsers stay
// connected to it. Job updates published meanwhile are lost for that node (the backplane is
// at-most-once) and its watchers do not reconnect, so they would never watch again. When its
// backplane is back, the jobs hub pushes every watched job's snapshot to its own watchers.
//
// Node C reaches Redis through a TCP proxy the test cuts; node D and the worker reach it directly.

describe('a job that ends while a hub node is cut off from Redis', () => {
  const pool = clientPool();
  const secret = randomBytes(32).toString('base64');
  let redis: PrivateRedis;
  let proxy: RoundRobinProxy;
  let cut: StartedProcess;
  let direct: StartedProcess;
  let worker: StartedProcess;
  let prefix: string;

  beforeAll(async () => {
    redis = await startRedis();
    proxy = await startRoundRobinProxy([redis.url.replace('redis:', 'http:')]);
    prefix = uniquePrefix('resync');
    const env = { REDIS_PREFIX: prefix, HUB_SECRET: secret };
    [cut, direct, worker] = await startAll([
      startHubNode({ ...env, REDIS_URL: proxy.url.replace('http:', 'redis:'), NODE_ID: 'hub-cut', LOG_LEVEL: 'info' }),
      startHubNode({ ...env, REDIS_URL: redis.url, NODE_ID: 'hub-direct' }),
      startWorkerProcess({ ...env, REDIS_URL: redis.url, NODE_ID: 'worker-resync' }),
    ]);
  }, 30_000);
  afterAll(async () => {
    await pool.stopAll();
    await Promise.all([cut, direct, worker].map((p) => p?.stop('SIGKILL')));
    await proxy?.close();
    await redis?.stop();
  });

  it('its watchers, still connected, get the final state once the node is back: the jobs hub resyncs watched jobs', async () => {
    // A job that runs about 2 s (two 1 s waits around a CPU stage).
    const res = await api(direct.url, 'POST', '/api/jobs', JSON.stringify({ name: 'pipeline', data: { items: 10, delayMs: 1000 } }));
    expect(res.status).toBe(202);
    const { jobId } = res.body as { jobId: string };
    const [onCut, onDirect] = await Promise.all([pool.connect(`${cut.url}/hubs/jobs`), pool.connect(`${direct.url}/hubs/jobs`)]);
    const seenCut: JobUpdate[] = [];
    const seenDirect: JobUpdate[] = [];
    onCut.on('jobUpdated', (u: JobUpdate) => seenCut.push(u));
    onDirect.on('jobUpdated', (u: JobUpdate) => seenDirect.push(u));
    const [first] = await Promise.all([onCut.invoke<JobUpdate>('watch', jobId), onDirect.invoke<JobUpdate>('watch', jobId)]);
    expect(first.state === 'queued' || first.state === 'active').toBe(true);

    // Cut node C from Redis (its connections are reset and new ones refused) until the job ended.
    proxy.setEnabled(0, false);
    proxy.cutAll();
    const cutAt = Date.now();
    const final = await waitFor('the job to end, seen on the node that still reaches Redis', () => seenDirect.find((u) => u.state === 'completed'), 15_000);
    // Node C's watcher missed it: its node had no Redis subscription when the worker published.
    await new Promise((r) => setTimeout(r, 300));
    expect(seenCut.some((u) => u.state === 'completed')).toBe(false);
    expect(onCut.state).toBe('Connected');
    expect(Date.now() - cutAt).toBeGreaterThan(500);

    // Redis reachable again: C reconnects, resubscribes, and the jobs hub pushes the snapshot.
    proxy.setEnabled(0, true);
    const resynced = await waitFor('the final state to reach the watcher on the node that was cut off', () => seenCut.find((u) => u.state === 'completed'), 10_000);
    expect(resynced).toMatchObject({ jobId, state: 'completed', seq: final.seq, progress: 100 });
    expect(resynced.result).toEqual(final.result);
    // It came from the resync, logged as such; the watcher stayed on the same connection all along.
    expect(cut.output()).toContain('backplane restored: the hub resyncs its groups');
    expect(onCut.state).toBe('Connected');

    // And the node is fully back: a later job reaches both watchers live.
    const again = await api(direct.url, 'POST', '/api/jobs', JSON.stringify({ name: 'pipeline', data: { items: 5, delayMs: 0 } }));
    const nextId = (again.body as { jobId: string }).jobId;
    await Promise.all([onCut.invoke('watch', nextId), onDirect.invoke('watch', nextId)]);
    await waitFor('the next job to complete on both nodes', () => [seenCut, seenDirect].every((seen) => seen.some((u) => u.jobId === nextId && u.state === 'completed')), 10_000);
  }, 45_000);

  it("Redis came back without the node's watch registration (an older snapshot, a lagging replica): the resync registers it again and later updates arrive live", async () => {
    // About 6 s: two 3 s waits around a CPU stage, so it still runs when the node is back.
    const res = await api(direct.url, 'POST', '/api/jobs', JSON.stringify({ name: 'pipeline', data: { items: 10, delayMs: 3000 } }));
    const { jobId } = res.body as { jobId: string };
    const onCut = await pool.connect(`${cut.url}/hubs/jobs`);
    const seen: JobUpdate[] = [];
    onCut.on('jobUpdated', (u: JobUpdate) => seen.push(u));
    await onCut.invoke('watch', jobId);
    const admin = new Redis(redis.url);
    try {
      const record = `{${prefix}jobs}:job:${jobId}`;
      expect(await admin.hget(record, '_w')).toBeTruthy();
      proxy.setEnabled(0, false);
      proxy.cutAll();
      await new Promise((r) => setTimeout(r, 300));
      // What a Redis restarted from an older snapshot would hold: the record without the node.
      await admin.hdel(record, '_w');
      proxy.setEnabled(0, true);
      await waitFor("the node's registration written again by the resync", async () => Boolean(await admin.hget(record, '_w')), 10_000);
      expect(await admin.hget(record, 'state')).not.toBe('completed');
      const done = await waitFor('the final state, live, at the watcher of the node that was cut off', () => seen.find((u) => u.state === 'completed'), 15_000);
      expect(done).toMatchObject({ jobId, progress: 100 });
    } finally {
      admin.disconnect();
    }
  }, 45_000);
});
