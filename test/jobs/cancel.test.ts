import type { JobUpdate } from '@switchboard/contracts';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientPool, delay } from '../support/signalr.js';
import { JobWatch, api, expectedHash, invariantViolations, startJobsDeployment, type JobsDeployment } from './support.js';

// 50M rounds is minutes of hashing: these jobs only ever end by being cancelled.
const ENDLESS = { rounds: 50_000_000 };

// One worker process with ONE thread and concurrency 1: a job still burning the thread would block every later job.
describe('jobs: cancel across processes', () => {
  let d: JobsDeployment;
  let redis: Redis;
  const pool = clientPool();

  beforeAll(async () => {
    d = await startJobsDeployment({ workers: [{ POOL_SIZE: '1', WORKER_CONCURRENCY: '1' }] });
    redis = new Redis(d.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  });
  afterEach(() => pool.stopAll());
  afterAll(async () => {
    redis?.disconnect();
    await d?.stop();
  });

  /** Whether BullMQ still holds the job (its hash under the deployment's queue prefix). */
  async function inBullQueue(jobId: string): Promise<boolean> {
    return (await redis.exists(`{${d.prefix}jobs}:jobs:${jobId}`)) === 1;
  }

  it('cancel from the other hub node stops a hash mid-CPU-work in the worker process and frees its thread', async () => {
    const watcher = await pool.connect(`${d.hubA.url}/hubs/jobs`, { protocol: 'json' });
    const other = await pool.connect(`${d.hubB.url}/hubs/jobs`, { protocol: 'messagepack' });
    const { jobId } = await watcher.invoke<{ jobId: string }>('enqueue', 'hash', ENDLESS);
    const w = await JobWatch.start(watcher, jobId);
    const running = await w.until((u) => u.state === 'active' && u.progress > 0, 15_000, 'active with progress > 0');
    expect(running.stage).toBe('hashing');

    const t0 = Date.now();
    expect(await other.invoke<boolean>('cancel', jobId)).toBe(true);
    const cancelMs = Date.now() - t0;
    const final = await w.terminal(5_000);
    expect(final).toMatchObject({ jobId, state: 'cancelled' });
    expect(final.progress).toBeLessThan(10);
    expect(final.result).toBeUndefined();
    expect(cancelMs).toBeLessThan(3_000);

    // The only thread is free again: a small job right after completes within seconds (it could
    // not while the thread still ran the 50M rounds).
    const small = await other.invoke<{ jobId: string }>('enqueue', 'hash', { rounds: 20_000 });
    const sw = await JobWatch.start(other, small.jobId);
    const done = await sw.terminal(4_000);
    expect(done).toMatchObject({ state: 'completed', result: expectedHash(20_000) });

    await delay(300);
    expect(invariantViolations(w)).toEqual([]);
    expect(invariantViolations(sw)).toEqual([]);
    expect(w.live.at(-1)).toEqual(final);
    const stored = (await api(d.hubB.url, 'GET', `/api/jobs/${jobId}`)).body as JobUpdate;
    expect(stored).toEqual(final);
    expect(stored.finishedAt).toBeGreaterThanOrEqual(stored.startedAt!);
    expect(d.workers[0]!.child.exitCode).toBeNull();
  });

  it('cancel of a queued job removes it from the queue: cancelled at once, never active', async () => {
    const a = await pool.connect(`${d.hubA.url}/hubs/jobs`, { protocol: 'messagepack' });
    const b = await pool.connect(`${d.hubB.url}/hubs/jobs`, { protocol: 'json' });
    const { jobId: first } = await b.invoke<{ jobId: string }>('enqueue', 'hash', ENDLESS);
    const { jobId: second } = await b.invoke<{ jobId: string }>('enqueue', 'hash', ENDLESS);
    const w1 = await JobWatch.start(b, first);
    const w2 = await JobWatch.start(a, second);
    await w1.until((u) => u.state === 'active', 10_000, 'the first job active');
    expect(w2.latest().state).toBe('queued');
    expect(await inBullQueue(second)).toBe(true);

    const t0 = Date.now();
    expect(await b.invoke<boolean>('cancel', second)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1_000); // no waiting for a worker: it is removed here
    const final2 = await w2.terminal(3_000);
    expect(final2).toMatchObject({ jobId: second, state: 'cancelled', progress: 0 });
    expect(await inBullQueue(second)).toBe(false);
    expect(w1.latest().state).toBe('active'); // the running one is untouched

    // Free the worker; were the second job still queued, it would start now.
    expect(await a.invoke<boolean>('cancel', first)).toBe(true);
    expect((await w1.terminal(5_000)).state).toBe('cancelled');
    await delay(500);
    expect(w2.seen().filter((u) => u.state === 'active')).toEqual([]);
    expect(invariantViolations(w1)).toEqual([]);
    expect(invariantViolations(w2)).toEqual([]);
    expect((await api(d.hubA.url, 'GET', `/api/jobs/${second}`)).body).toEqual(final2);
    // Cancelling it again: it had already ended.
    expect(await a.invoke<boolean>('cancel', second)).toBe(false);
  });

  it('cancel of a finished job returns false (hub and REST) and leaves its snapshot unchanged', async () => {
    const c = await pool.connect(`${d.hubB.url}/hubs/jobs`, { protocol: 'json' });
    const { jobId } = await c.invoke<{ jobId: string }>('enqueue', 'hash', { rounds: 20_000 });
    const w = await JobWatch.start(c, jobId);
    const final = await w.terminal(5_000);
    expect(final.state).toBe('completed');
    expect(await c.invoke<boolean>('cancel', jobId)).toBe(false);
    const del = await api(d.hubA.url, 'DELETE', `/api/jobs/${jobId}`);
    expect(del).toMatchObject({ status: 200, body: { cancelled: false } });
    await delay(200);
    expect((await api(d.hubA.url, 'GET', `/api/jobs/${jobId}`)).body).toEqual(final);
    expect(invariantViolations(w)).toEqual([]);
  });
});
