import type { JobUpdate } from '@switchboard/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startRedis, uniquePrefix, type PrivateRedis } from '../../../test/support/redis.js';
import { defineJob } from './define-job.js';
import { JobsService } from './jobs-service.js';
import { ACTIVE_INDEX_DELAY_MS, DEFAULT_WORKER_CONCURRENCY, JobsWorker } from './jobs-worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// 60 reports 5 ms apart over three stages: far more than a slow publish lets out.
const steps = defineJob({
  name: 'steps',
  schema: z.object({}),
  stages: ['a', 'b', 'c'],
  async process(ctx) {
    for (let i = 0; i < 60; i++) {
      ctx.progress(i, i < 20 ? 'a' : i < 40 ? 'b' : 'c');
      await sleep(5);
    }
    return 'done';
  },
});

const quick = defineJob({ name: 'quick', schema: z.object({ ms: z.number() }), async process(_ctx, { ms }) { await sleep(ms); return ms; } });

describe('JobsWorker (private redis-server)', () => {
  let server: PrivateRedis;
  let service: JobsService<[typeof steps, typeof quick]>;
  let worker: JobsWorker;
  const published: JobUpdate[] = [];

  beforeAll(async () => {
    server = await startRedis();
    const prefix = uniquePrefix('worker');
    service = new JobsService({ jobs: [steps, quick], redis: server.url, prefix, publish: async () => {} });
    worker = new JobsWorker({
      jobs: [steps, quick],
      redis: server.url,
      prefix,
      poolSize: 1,
      progressIntervalMs: 1,
      // A publish that takes 40 ms: the writes of one job queue up behind it.
      publish: async (u) => {
        await sleep(40);
        published.push(u);
      },
    });
    await worker.ready();
  });
  afterAll(async () => {
    await worker?.close();
    await service?.close();
    await server?.stop();
  });

  it('runs 50 jobs at once by default, whatever the pool size', () => {
    expect(DEFAULT_WORKER_CONCURRENCY).toBe(50);
    expect(worker.worker.opts.concurrency).toBe(50);
    expect(worker.pool.size).toBe(1);
  });

  it('progress waiting behind a slow write is merged into one write, never a stage change nor the end', async () => {
    const { jobId } = await service.enqueue('steps', {});
    await expect.poll(() => published.at(-1)?.state, { timeout: 10_000 }).toBe('completed');
    const mine = published.filter((u) => u.jobId === jobId);
    // seq rises by one per write and the publishes follow it.
    expect(mine.map((u) => u.seq)).toEqual(mine.map((_, i) => mine[0]!.seq + i));
    // Every stage, in order; the end once, last.
    expect(mine.map((u) => u.stage).filter((s, i, a) => s !== undefined && a[i - 1] !== s)).toEqual(['a', 'b', 'c']);
    expect(mine.filter((u) => u.state === 'completed')).toHaveLength(1);
    expect(mine.at(-1)).toMatchObject({ state: 'completed', progress: 100, result: 'done' });
    // 60 reports over ~300 ms, each write taking 40 ms or more: merged, not queued one by one.
    expect(mine.length).toBeLessThan(25);
    // A merged write carries the latest progress: the last before the end is from stage c.
    expect(mine.at(-2)).toMatchObject({ state: 'active', stage: 'c' });
  });

  it('lists a job as active only once it has run ACTIVE_INDEX_DELAY_MS: a quick one goes from queued to completed', async () => {
    const done = (id: string) => expect.poll(() => published.find((u) => u.jobId === id && u.state === 'completed'), { timeout: 10_000 }).toBeTruthy();
    const v0 = Number(await service.list.version());
    const fast = await service.enqueue('quick', { ms: 0 });
    await done(fast.jobId);
    const ran = published.filter((u) => u.jobId === fast.jobId);
    const active = ran.find((u) => u.state === 'active')!;
    const completed = ran.find((u) => u.state === 'completed')!;
    // Created, then completed: two index changes, no `active` in between, when its completion was
    // written before the delay ran out (the store's writes are applied in order); a loaded machine
    // that stalled the run past it lists it active first (three).
    const quick = completed.updatedAt - active.startedAt! < ACTIVE_INDEX_DELAY_MS;
    expect(Number(await service.list.version())).toBe(v0 + (quick ? 2 : 3));
    // Long enough that a poll every 50 ms sees it active even on a loaded machine.
    const slow = await service.enqueue('quick', { ms: ACTIVE_INDEX_DELAY_MS * 20 });
    await expect.poll(async () => (await service.list.counts({ everyOwner: true })).active, { timeout: 10_000 }).toBe(1);
    await done(slow.jobId);
    expect(await service.list.counts({ everyOwner: true })).toMatchObject({ active: 0, queued: 0 });
    expect(published.filter((u) => u.jobId === slow.jobId).map((u) => u.state)).toEqual(['active', 'completed']);
  });
});
