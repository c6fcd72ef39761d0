import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, uniquePrefix, type PrivateRedis } from '../../../test/support/redis.js';
import { JobList } from './job-list.js';
import { JobStore } from './job-store.js';
import { JobsService } from './jobs-service.js';
import { JobKeys } from './keys.js';

// The list index before the state-banded one (0.1.0 builds before 741e301): one sorted set per
// state per scope (`<idx><state><scope>`, and `<idx>all<scope>` with every job), score createdAt.
// After an upgrade its jobs must still be listed and counted, and its sets must not be left behind.

describe('upgrading the per-state list index (private redis-server)', () => {
  let server: PrivateRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  /** Writes a record and its index entries as the per-state index's scripts did. */
  async function oldJob(keys: JobKeys, id: string, name: string, owner: string | undefined, state: string, createdAt: number, extra: Record<string, string> = {}) {
    const o = owner ? encodeURIComponent(owner) : '-';
    const n = encodeURIComponent(name);
    await redis.hset(keys.snapshot(id), { jobId: id, name, seq: '1', state, progress: '0', attempt: '1', createdAt: String(createdAt), updatedAt: String(createdAt), _o: o, _n: n, ...(owner ? { owner } : {}), ...extra });
    await redis.expire(keys.snapshot(id), 600);
    for (const set of [state, 'all']) for (const scope of ['', `:n:${n}`, `:o:${o}`, `:o:${o}:n:${n}`]) await redis.zadd(`${keys.index}${set}${scope}`, createdAt, id);
  }

  it('indexes the jobs it holds from their records, keeps delayed records until after their due time, deletes its sets, once', async () => {
    const keys = new JobKeys(uniquePrefix('upgrade'));
    const store = new JobStore(redis, keys, 600);
    const list = new JobList(redis, keys, store);
    const now = Date.now();
    await oldJob(keys, 'old000000001', 'report', 'ana', 'queued', 1000);
    await oldJob(keys, 'old000000002', 'report', 'ana', 'active', 1001, { startedAt: '1500' });
    await oldJob(keys, 'old000000003', 'note', 'bob', 'completed', 1002);
    // Delayed by 48 h: its record was given 600 s from the enqueue.
    await oldJob(keys, 'old000000004', 'note', undefined, 'delayed', 1003, { dueAt: String(now + 48 * 3600_000) });
    // Its record expired: only its index entries are left.
    await oldJob(keys, 'old000000005', 'report', 'cy', 'failed', 1004);
    await redis.del(keys.snapshot('old000000005'));
    // More than one step's worth (200 per step).
    for (let i = 0; i < 250; i++) await oldJob(keys, `bulk${String(i).padStart(8, '0')}`, 'report', 'dee', 'completed', 2000 + i);
    // A job the new code created and moved on meanwhile (its first state change was in the new sets only).
    await oldJob(keys, 'old000000006', 'report', 'ana', 'queued', 1005);
    await store.update('old000000006', { state: 'active' });
    const fresh = await store.create('new000000001', 'report', 'ana', {}, 3000);
    expect(fresh.created).toBe(true);

    expect(await list.upgradeOldIndex()).toBe(255); // 4 + 1 + 250, not the expired one

    const every = await list.page({ everyOwner: true }, { limit: 5 });
    expect(every.counts).toEqual({ queued: 2, delayed: 1, active: 2, completed: 251, failed: 0, cancelled: 0 });
    expect(every.jobs[0]!.jobId).toBe('new000000001');
    const ana = await list.page({ everyOwner: false, owner: 'ana' }, {});
    expect(ana.jobs.map((j) => j.jobId)).toEqual(['new000000001', 'old000000006', 'old000000002', 'old000000001']);
    expect(ana.counts).toMatchObject({ queued: 2, active: 2 });
    expect((await list.page({ everyOwner: false }, { state: 'delayed', name: 'note' })).jobs.map((j) => j.jobId)).toEqual(['old000000004']);
    expect(await list.counts({ everyOwner: false, owner: 'dee' })).toMatchObject({ completed: 250 });
    expect(await list.counts({ everyOwner: false, owner: 'cy' })).toMatchObject({ failed: 0 });
    expect(await redis.ttl(keys.snapshot('old000000004'))).toBeGreaterThan(48 * 3600 + 590);
    expect(await redis.ttl(keys.snapshot('old000000001'))).toBeLessThanOrEqual(600);

    // Nothing of the old index is left (its scopes' sets included, even the expired job's).
    const left = (await redis.keys(`${keys.index}*`)).map((k) => k.slice(keys.index.length).split(':')[0]);
    expect(new Set(left)).toEqual(new Set(['state', 'time', 'version', 'upgrade']));
    expect(await redis.hget(`${keys.index}upgrade`, 'done')).toBeTruthy();

    // Once: a second run (another process, a restart) changes nothing.
    const version = await list.version();
    expect(await list.upgradeOldIndex()).toBe(0);
    expect(await list.version()).toBe(version);
  });

  it('a deployment without the old index: one call marks it done', async () => {
    const keys = new JobKeys(uniquePrefix('upgrade'));
    const store = new JobStore(redis, keys, 600);
    await store.create('new000000002', 'report', undefined);
    const list = new JobList(redis, keys, store);
    const scans = async () => Number(/calls=(\d+)/.exec((await redis.info('commandstats')).split('\n').find((l) => l.startsWith('cmdstat_scan:')) ?? 'calls=0')![1]);
    const before = await scans();
    expect(await list.upgradeOldIndex()).toBe(0);
    expect(await scans()).toBe(before);
    expect(await redis.hget(`${keys.index}upgrade`, 'done')).toBeTruthy();
    expect((await list.page({ everyOwner: true }, {})).jobs.map((j) => j.jobId)).toEqual(['new000000002']);
  });

  it('JobsService runs it when it connects, in the background', async () => {
    const prefix = uniquePrefix('upgrade');
    const keys = new JobKeys(prefix);
    await oldJob(keys, 'old000000007', 'report', 'ana', 'queued', 1000);
    const service = new JobsService({ jobs: [], redis: server.url, prefix, publish: async () => {} });
    try {
      await expect.poll(async () => (await service.listCounts({ id: 'ana' })).counts.queued).toBe(1);
      await expect.poll(async () => redis.exists(`${keys.index}queued`)).toBe(0);
    } finally {
      await service.close();
    }
  });
});
