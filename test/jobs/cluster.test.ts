// The job pipeline on a Redis Cluster: the paths that differ from a single Redis (the corked
// command connections, the store scripts and the list index on one hash-tagged slot, the cancel
// channel, BullMQ's keys, the finished-job counters) with real processes: a private 3-master
// Redis Cluster, two apps/hub nodes and one apps/worker, all given REDIS_CLUSTER_NODES only.
import { randomBytes } from 'node:crypto';
import type { JobListPage } from '@switchboard/contracts';
import { JobsService } from '@switchboard/jobs';
import demoJobs from '@switchboard/jobs/examples/demo';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNodeProcess, type StartedProcess } from '../support/processes.js';
import { startRedisCluster, uniquePrefix, type PrivateRedisCluster } from '../support/redis.js';
import { clientPool, delay } from '../support/signalr.js';
import { JobWatch, api, expectedHash, invariantViolations } from './support.js';

const N = 40;
let cluster: PrivateRedisCluster | undefined;
const processes: StartedProcess[] = [];
let hubA = '';
let hubB = '';
const prefix = uniquePrefix('jobs-cluster');
const pool = clientPool();

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  const common = { REDIS_CLUSTER_NODES: cluster.nodes, REDIS_URL: '', REDIS_PREFIX: prefix, LOG_LEVEL: 'warn' };
  const secret = randomBytes(32).toString('base64');
  const started = await Promise.allSettled([
    startNodeProcess('apps/hub/dist/main.js', { ...common, PORT: '0', HOST: '127.0.0.1', HUB_SECRET: secret }),
    startNodeProcess('apps/hub/dist/main.js', { ...common, PORT: '0', HOST: '127.0.0.1', HUB_SECRET: secret }),
    startNodeProcess('apps/worker/dist/main.js', { ...common, POOL_SIZE: '1', WORKER_CONCURRENCY: '20' }, 15_000, /worker ready/),
  ]);
  for (const r of started) if (r.status === 'fulfilled') processes.push(r.value);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  hubA = processes[0]!.url;
  hubB = processes[1]!.url;
}, 60_000);
afterEach(() => pool.stopAll());
afterAll(async () => {
  await Promise.allSettled(processes.map((p) => p.stop('SIGTERM', 3000)));
  await cluster?.stop();
});

describe('jobs on a Redis Cluster (3 masters, two hub nodes, one worker)', () => {
  it(`${N} jobs enqueued with watch on both nodes (JSON and MessagePack) each end once, in seq order, with the right result; the list index counts them`, async () => {
    const a = await pool.connect(`${hubA}/hubs/jobs`, { protocol: 'json' });
    const b = await pool.connect(`${hubB}/hubs/jobs`, { protocol: 'messagepack' });
    // Watchers on the other node too: the job's group spans both nodes through the Cluster's pub/sub.
    const enqueued = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const [mine, other] = i % 2 ? [a, b] : [b, a];
        const rounds = 1000 + i;
        const { jobId } = await mine.invoke<{ jobId: string }>('enqueue', 'hash', { rounds }, { watch: true });
        return { jobId, rounds, watch: await JobWatch.start(other, jobId) };
      }),
    );
    const finals = await Promise.all(enqueued.map((e) => e.watch.terminal(30_000)));
    await delay(300); // a second terminal update would arrive meanwhile
    for (const [i, e] of enqueued.entries()) {
      expect(finals[i]).toMatchObject({ jobId: e.jobId, state: 'completed', result: expectedHash(e.rounds) });
      expect(invariantViolations(e.watch), e.jobId).toEqual([]);
    }
    // Scripts and index on the slot of `{<prefix>jobs}`: counted and listed from either node.
    const page = (await api(hubB, 'GET', `/api/jobs?state=completed&limit=200`)).body as JobListPage;
    expect(page.counts.completed).toBe(N);
    expect(new Set(page.jobs.map((j) => j.jobId))).toEqual(new Set(enqueued.map((e) => e.jobId)));
    const listed = await a.invoke<JobListPage>('list', { name: 'hash', limit: 5 });
    expect(listed.jobs).toHaveLength(5);
    expect(listed.counts).toMatchObject({ completed: N, queued: 0, active: 0 });
  });

  it('a running job is cancelled from the other node (the cancel channel through the Cluster)', async () => {
    const a = await pool.connect(`${hubA}/hubs/jobs`);
    const b = await pool.connect(`${hubB}/hubs/jobs`);
    const { jobId } = await a.invoke<{ jobId: string }>('enqueue', 'hash', { rounds: 50_000_000 });
    const watch = await JobWatch.start(a, jobId);
    await watch.until((u) => u.state === 'active', 15_000, 'active');
    expect(await b.invoke<boolean>('cancel', jobId)).toBe(true);
    expect(await watch.terminal(15_000)).toMatchObject({ state: 'cancelled' });
  });

  it('an idempotency key answers the first job on a repeat; enqueueMany (the library) writes a batch the worker runs', async () => {
    const c = await pool.connect(`${hubA}/hubs/jobs`);
    const key = `cluster-${randomBytes(4).toString('hex')}`;
    const first = await c.invoke<{ jobId: string; duplicate?: boolean }>('enqueue', 'hash', { rounds: 1 }, { idempotencyKey: key });
    expect(first.duplicate).toBeUndefined();
    expect(await c.invoke('enqueue', 'hash', { rounds: 2 }, { idempotencyKey: key })).toEqual({ jobId: first.jobId, duplicate: true });

    const service = new JobsService({ jobs: demoJobs, redis: { cluster: cluster!.nodes.split(',') }, prefix, publish: async () => {} });
    try {
      const { jobIds } = await service.enqueueMany(Array.from({ length: 20 }, (_, i) => ({ name: 'hash' as const, data: { rounds: 10 + i } })));
      expect(jobIds).toHaveLength(20);
      await expect.poll(async () => (await Promise.all(jobIds.map((id) => service.get(id)))).filter((s) => s?.state === 'completed').length, { timeout: 20_000 }).toBe(20);
    } finally {
      await service.close();
    }
  });

  it('every key the pipeline wrote is under one of its two hash tags, each one slot (multi-key scripts need it)', async () => {
    const redis = new Cluster(cluster!.nodes.split(',').map((hp) => ({ host: '127.0.0.1', port: Number(hp.split(':')[1]) })));
    try {
      await redis.ping(); // the node list is known once connected
      const keys: string[] = [];
      for (const node of redis.nodes('master')) {
        let cursor = '0';
        do {
          const [next, batch] = await node.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
          cursor = next;
          keys.push(...batch);
        } while (cursor !== '0');
      }
      const jobs = keys.filter((k) => k.startsWith(`{${prefix}jobs}`));
      const system = keys.filter((k) => k.startsWith(`{${prefix}system}`));
      expect(jobs.length).toBeGreaterThan(N);
      // The one-time upgrade of the old list index ran on the Cluster too (hub nodes run it when they connect).
      expect(await redis.hget(`{${prefix}jobs}:idx:upgrade`, 'done')).toBeTruthy();
      expect(keys.filter((k) => !jobs.includes(k) && !system.includes(k))).toEqual([]);
      for (const group of [jobs, system]) expect(new Set(await Promise.all(group.map((k) => redis.cluster('KEYSLOT', k)))).size).toBeLessThanOrEqual(1);
    } finally {
      redis.disconnect();
    }
  });
});
