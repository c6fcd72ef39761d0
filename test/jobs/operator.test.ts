// The operator's view on the server: jobTypes, list (scoped, paged, counted), watchList pushes
// coalesced to about 10 per second, enqueue options (delay, priority, idempotency key), retry and
// remove, on the jobs hub and the REST API; two apps/hub nodes with authentication, one worker.
import type { JobListChange, JobListPage, JobTypeInfo, JobUpdate } from '@switchboard/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mintHs256, testJwtSecret } from '../support/jwt.js';
import { clientPool, delay } from '../support/signalr.js';
import { JobWatch, api, startJobsDeployment, type JobsDeployment } from './support.js';

const secret = testJwtSecret();
let d: JobsDeployment;
const pool = clientPool();
const tokens = { alice: '', bob: '', ops: '' };
const as = (who: keyof typeof tokens) => ({ Authorization: `Bearer ${tokens[who]}` });
const hub = (base: string, who: keyof typeof tokens) => pool.connect(`${base}/hubs/jobs`, { accessTokenFactory: () => tokens[who] });

beforeAll(async () => {
  d = await startJobsDeployment({ workers: [{ POOL_SIZE: '1', WORKER_CONCURRENCY: '4' }], hubEnv: { AUTH_JWT_SECRET: secret, JOBS_ADMIN_ROLE: 'ops' } });
  tokens.alice = await mintHs256(secret, 'alice');
  tokens.bob = await mintHs256(secret, 'bob');
  tokens.ops = await mintHs256(secret, 'olga', { roles: ['ops'] });
}, 30_000);
afterEach(() => pool.stopAll());
afterAll(() => d?.stop());

describe('the operator view (jobs hub and REST)', () => {
  it('jobTypes and GET /api/job-types describe the job set with each job\'s data as JSON Schema', async () => {
    const c = await hub(d.hubA.url, 'alice');
    const types = await c.invoke<JobTypeInfo[]>('jobTypes');
    expect(types.map((t) => t.name)).toEqual(['hash', 'pipeline']);
    const pipeline = types[1]!;
    expect(pipeline).toMatchObject({ title: 'Pipeline', stages: ['fetch', 'transform', 'publish'], attempts: 3 });
    expect(pipeline.schema).toMatchObject({ type: 'object', required: ['items'], properties: { items: { type: 'integer', minimum: 1, maximum: 1_000_000 }, failAtStage: { enum: ['fetch', 'transform', 'publish'] } } });
    const rest = await api(d.hubB.url, 'GET', '/api/job-types', undefined, undefined, as('bob'));
    expect(rest).toMatchObject({ status: 200, body: types });
  });

  it('list: users see their own jobs, the admin role every job; paged newest first with counts; REST the same', async () => {
    const alice = await hub(d.hubA.url, 'alice');
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push((await alice.invoke<{ jobId: string }>('enqueue', 'pipeline', { items: 1, delayMs: 0 })).jobId);
    const bobs = (await api(d.hubB.url, 'POST', '/api/jobs', JSON.stringify({ name: 'hash', data: { rounds: 1 } }), undefined, as('bob'))).body as { jobId: string };
    const alicePage = await alice.invoke<JobListPage>('list', { limit: 2 });
    expect(alicePage.jobs.map((j) => j.jobId)).toEqual([mine[2], mine[1]]);
    expect(alicePage.nextCursor).toBe('2');
    const next = await alice.invoke<JobListPage>('list', { limit: 2, cursor: alicePage.nextCursor });
    expect(next.jobs.map((j) => j.jobId)).toContain(mine[0]);
    expect(Object.values(alicePage.counts).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
    const seenByAlice = [...alicePage.jobs, ...next.jobs].map((j) => j.jobId);
    expect(seenByAlice).not.toContain(bobs.jobId);
    const ops = await hub(d.hubB.url, 'ops');
    const all = await ops.invoke<JobListPage>('list', { limit: 200 });
    expect(all.jobs.map((j) => j.jobId)).toEqual(expect.arrayContaining([...mine, bobs.jobId]));
    const restBob = await api(d.hubA.url, 'GET', '/api/jobs?name=hash&limit=10', undefined, undefined, as('bob'));
    expect(restBob.status).toBe(200);
    expect((restBob.body as JobListPage).jobs.map((j) => j.jobId)).toEqual([bobs.jobId]);
    expect(await api(d.hubA.url, 'GET', '/api/jobs?state=done', undefined, undefined, as('bob'))).toMatchObject({ status: 400, body: { code: 'SB_JOB_LIST_INVALID' } });
    await expect(alice.invoke('list', { limit: 0 })).rejects.toThrow(/SB_JOB_LIST_INVALID: Invalid job list query: limit must be an integer from 1 to 200/);
  });

  it('watchList: counts now, then jobListChanged at most about 10 times a second however many jobs change', async () => {
    const ops = await hub(d.hubA.url, 'ops');
    const pushes: JobListChange[] = [];
    ops.on('jobListChanged', (c: JobListChange) => void pushes.push(c));
    const first = await ops.invoke<JobListChange>('watchList');
    expect(first.counts).toHaveProperty('queued');
    const alice = await hub(d.hubB.url, 'alice');
    const started = Date.now();
    // 60 jobs (each with several state changes) within about a second.
    await Promise.all(Array.from({ length: 60 }, () => alice.invoke('enqueue', 'hash', { rounds: 1 })));
    await delay(1500);
    const elapsed = (Date.now() - started) / 1000;
    expect(pushes.length).toBeGreaterThan(0);
    expect(pushes.length).toBeLessThanOrEqual(Math.ceil(elapsed * 10) + 1);
    const last = pushes.at(-1)!;
    expect(Object.values(last.counts).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(Object.values(first.counts).reduce((a, b) => a + b, 0) + 60);
    // unwatchList stops the pushes.
    await ops.invoke('unwatchList');
    const count = pushes.length;
    await alice.invoke('enqueue', 'hash', { rounds: 1 });
    await delay(400);
    expect(pushes.length).toBe(count);
  });

  it('a delayed job shows delayed with its due time, then active, then completed; priority is recorded', async () => {
    const c = await hub(d.hubA.url, 'alice');
    const t0 = Date.now();
    const { jobId } = await c.invoke<{ jobId: string }>('enqueue', 'pipeline', { items: 1, delayMs: 100 }, { delayMs: 1500, priority: 5 });
    const w = await JobWatch.start(c, jobId);
    expect(w.snapshot).toMatchObject({ state: 'delayed', priority: 5 });
    expect(w.snapshot!.dueAt).toBeGreaterThanOrEqual(t0 + 1500);
    const active = await w.until((u) => u.state === 'active', 10_000, 'active');
    expect(active.updatedAt).toBeGreaterThanOrEqual(t0 + 1400);
    expect((await w.terminal(10_000)).state).toBe('completed');
    expect(w.seen().map((u) => u.state).filter((s, i, a) => a[i - 1] !== s)).toEqual(['delayed', 'active', 'completed']);
    await expect(c.invoke('enqueue', 'hash', { rounds: 1 }, { delayMs: -1 })).rejects.toThrow(/SB_JOB_OPTIONS_INVALID: Invalid enqueue options: delayMs must be an integer from 0/);
  });

  it('the same idempotency key within 24 h returns the first job and enqueues nothing (hub and REST)', async () => {
    const c = await hub(d.hubA.url, 'alice');
    const key = `order-${Date.now()}`;
    const first = await c.invoke<{ jobId: string; duplicate?: boolean }>('enqueue', 'hash', { rounds: 1 }, { idempotencyKey: key });
    expect(first.duplicate).toBeUndefined();
    expect(await c.invoke('enqueue', 'hash', { rounds: 2 }, { idempotencyKey: key })).toEqual({ jobId: first.jobId, duplicate: true });
    const rest = await api(d.hubB.url, 'POST', '/api/jobs', JSON.stringify({ name: 'hash', data: { rounds: 1 }, options: { idempotencyKey: key } }), undefined, as('alice'));
    expect(rest).toMatchObject({ status: 200, body: { jobId: first.jobId, duplicate: true } });
  });

  it('retry runs a failed job again (its watchers see queued, then a new attempt that completes); remove deletes a finished job', async () => {
    const c = await hub(d.hubA.url, 'alice');
    // Fails in every one of its 3 attempts; a 4th (the retry) passes.
    const { jobId } = await c.invoke<{ jobId: string }>('enqueue', 'pipeline', { items: 1, delayMs: 0, failAtStage: 'fetch', failAttempts: 3 });
    const w = await JobWatch.start(c, jobId);
    const failed = await w.terminal(20_000);
    expect(failed).toMatchObject({ state: 'failed', attempt: 3, stage: 'fetch' });
    await expect(c.invoke('remove', 'nosuchjob0000000')).rejects.toThrow(/SB_JOB_NOT_FOUND/);
    const retried = await api(d.hubB.url, 'POST', `/api/jobs/${jobId}/retry`, '', undefined, as('alice'));
    expect(retried).toMatchObject({ status: 202, body: { jobId } });
    const done = await w.until((u) => u.state === 'completed', 20_000, 'completed after the retry');
    expect(done.attempt).toBe(4);
    expect(w.seen().some((u) => u.state === 'queued' && u.seq > failed.seq)).toBe(true);
    await expect(c.invoke('retry', jobId)).rejects.toThrow(/SB_JOB_STATE_CONFLICT: Job '.*' is completed: only a failed job can be retried\./);
    // bob may not remove alice's job; alice may.
    expect(await api(d.hubA.url, 'POST', `/api/jobs/${jobId}/remove`, '', undefined, as('bob'))).toMatchObject({ status: 403, body: { code: 'SB_JOB_FORBIDDEN' } });
    expect(await c.invoke('remove', jobId)).toBe(true);
    expect(await api(d.hubA.url, 'GET', `/api/jobs/${jobId}`, undefined, undefined, as('alice'))).toMatchObject({ status: 404 });
  });

  it('remove of a job that has not finished is refused with 409 SB_JOB_STATE_CONFLICT', async () => {
    const c = await hub(d.hubA.url, 'alice');
    const { jobId } = await c.invoke<{ jobId: string }>('enqueue', 'pipeline', { items: 1, delayMs: 0 }, { delayMs: 60_000 });
    const res = await api(d.hubB.url, 'POST', `/api/jobs/${jobId}/remove`, '', undefined, as('alice'));
    expect(res).toMatchObject({ status: 409, body: { code: 'SB_JOB_STATE_CONFLICT', error: expect.stringMatching(/is delayed: only a finished job .* can be removed; cancel it first/) } });
    expect(await c.invoke('cancel', jobId)).toBe(true);
    const gone: JobUpdate = (await (await JobWatch.start(c, jobId)).terminal(5000));
    expect(gone.state).toBe('cancelled');
    expect(await c.invoke('remove', jobId)).toBe(true);
  });
});
