// The operator's list with 100,000 jobs in Redis: seeded through the queue (JobsService.enqueueMany:
// snapshots and BullMQ jobs, as hub nodes write them), then paged and counted from the index
// without loading the set. A private redis-server, no workers: every job stays queued, except the
// few this test moves.
import { JobsService } from '@switchboard/jobs';
import demoJobs from '@switchboard/jobs/examples/demo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';

const TOTAL = Number(process.env['LIST_SCALE_JOBS'] || 100_000);
const BATCH = 2_000;

describe(`the job list with ${TOTAL.toLocaleString('en-US')} jobs in Redis`, { timeout: 240_000 }, () => {
  let redis: PrivateRedis;
  let service: JobsService<typeof demoJobs>;
  let seedMs = 0;

  beforeAll(async () => {
    redis = await startRedis();
    service = new JobsService({ jobs: demoJobs, redis: redis.url, prefix: uniquePrefix('scale'), publish: async () => {}, timeoutMs: 30_000 });
    const t0 = Date.now();
    for (let i = 0; i < TOTAL; i += BATCH) {
      const n = Math.min(BATCH, TOTAL - i);
      // Every 10th job is a pipeline, by ana; the rest hash jobs, by bob.
      await service.enqueueMany(Array.from({ length: n }, (_, k) => ((i + k) % 10 === 0 ? { name: 'pipeline' as const, data: { items: 1 } } : { name: 'hash' as const, data: { rounds: 1 } })));
    }
    seedMs = Date.now() - t0;
  }, 240_000);
  afterAll(async () => {
    await service?.close();
    await redis?.stop();
  });

  it('counts every job and pages newest first, with every page bounded', async () => {
    console.log(`[list-scale] seeded ${TOTAL} jobs through enqueueMany in ${seedMs} ms`);
    const admin = { id: 'root', roles: ['admin'] };
    const t0 = Date.now();
    const first = await service.listJobs({ limit: 100 }, admin);
    const firstMs = Date.now() - t0;
    expect(first.counts).toEqual({ queued: TOTAL, delayed: 0, active: 0, completed: 0, failed: 0, cancelled: 0 });
    expect(first.jobs).toHaveLength(100);
    expect(first.nextCursor).toBe('100');
    for (let i = 1; i < first.jobs.length; i++) expect(first.jobs[i - 1]!.createdAt).toBeGreaterThanOrEqual(first.jobs[i]!.createdAt);
    // Deep in the middle and at the end: the same bounded work.
    const t1 = Date.now();
    const middle = await service.listJobs({ limit: 100, cursor: String(TOTAL / 2) }, admin);
    const middleMs = Date.now() - t1;
    expect(middle.jobs).toHaveLength(100);
    const last = await service.listJobs({ limit: 100, cursor: String(TOTAL - 50) }, admin);
    expect(last.jobs).toHaveLength(50);
    expect(last.nextCursor).toBeUndefined();
    // By name: a tenth are pipelines.
    const pipelines = await service.listJobs({ name: 'pipeline', limit: 10 }, admin);
    expect(pipelines.counts.queued).toBe(TOTAL / 10);
    expect(pipelines.jobs.every((j) => j.name === 'pipeline')).toBe(true);
    // Reported, not asserted (speed is the benchmark's business): a page is one ZREVRANGE, six ZCARDs and 100 HGETALLs.
    console.log(`[list-scale] first page ${firstMs} ms, a page at ${TOTAL / 2} ${middleMs} ms`);
  });

  it('a job that changes state moves between the counts at once', async () => {
    const admin = { id: 'root', roles: ['admin'] };
    const { jobs } = await service.listJobs({ limit: 3 }, admin);
    for (const j of jobs) await service.cancel(j.jobId, admin);
    const after = await service.listJobs({ state: 'cancelled', limit: 10 }, admin);
    expect(after.counts).toMatchObject({ queued: TOTAL - 3, cancelled: 3 });
    expect(after.jobs.map((j) => j.jobId).sort()).toEqual(jobs.map((j) => j.jobId).sort());
  });
});
