import type { JobUpdate } from '@switchboard/contracts';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientPool, delay } from '../support/signalr.js';
import { JobWatch, api, expectedHash, invariantViolations, runCli, startJobsDeployment, type JobsDeployment } from './support.js';

/** The updates a client following the contract shows: snapshot and live, deduplicated, by seq. */
function history(w: JobWatch): JobUpdate[] {
  const bySeq = new Map<number, JobUpdate>();
  for (const u of w.seen()) bySeq.set(u.seq, u);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** The updates that start a run: `active` after a state other than `active`. */
function starts(list: JobUpdate[]): JobUpdate[] {
  return list.filter((u, i) => u.state === 'active' && list[i - 1]?.state !== 'active');
}

/** Index of the first update at or after `from` matching `pred` (-1 when none). */
function indexFrom(list: JobUpdate[], from: number, pred: (u: JobUpdate) => boolean): number {
  for (let i = Math.max(0, from); i < list.length; i++) if (pred(list[i]!)) return i;
  return -1;
}

/**
 * Hub nodes subscribed to the job's group channel, and the route ids of the hub nodes registered
 * in its record as watching it (routed watching: watchers join without the group's channel).
 */
async function watchedBy(d: JobsDeployment, jobId: string): Promise<{ groupSubscribers: number; routes: string[] }> {
  const redis = new Redis(d.redis.url);
  try {
    const groupSubscribers = Number(((await redis.call('PUBSUB', 'NUMSUB', `${d.prefix}jobs:group:job:${jobId}`)) as unknown[])[1]);
    const routes = (await redis.hget(`{${d.prefix}jobs}:job:${jobId}`, '_w'))?.split(' ') ?? [];
    return { groupSubscribers, routes };
  } finally {
    redis.disconnect();
  }
}

// A private Redis, two hub nodes and one worker process with two piscina threads.
describe('jobs: two hub nodes, a worker process, official clients', () => {
  let d: JobsDeployment;
  const pool = clientPool();

  beforeAll(async () => {
    d = await startJobsDeployment({ workers: [{ POOL_SIZE: '2', WORKER_CONCURRENCY: '2' }] });
  });
  afterEach(() => pool.stopAll());
  afterAll(async () => {
    await d?.stop();
  });

  it('hash jobs enqueued by a hub method and by REST reach JSON and MessagePack watchers on both nodes, in seq order, coalesced, ending once with the right digest', async () => {
    // 1-3 s of hashing (two jobs share the 2 cores): long enough to rate-check progress and to watch before the end.
    // About 1.3 s of hashing here (an AMD EPYC vCPU): long enough to measure the update rate on faster machines too.
    const ROUNDS = 1_000_000;
    const clients = {
      'json@A': await pool.connect(`${d.hubA.url}/hubs/jobs`, { protocol: 'json' }),
      'messagepack@A': await pool.connect(`${d.hubA.url}/hubs/jobs`, { protocol: 'messagepack' }),
      'json@B': await pool.connect(`${d.hubB.url}/hubs/jobs`, { protocol: 'json' }),
      'messagepack@B': await pool.connect(`${d.hubB.url}/hubs/jobs`, { protocol: 'messagepack' }),
    };
    const { jobId: viaHub } = await clients['json@A'].invoke<{ jobId: string }>('enqueue', 'hash', { rounds: ROUNDS });
    const rest = await api(d.hubB.url, 'POST', '/api/jobs', JSON.stringify({ name: 'hash', data: { rounds: ROUNDS } }));
    expect(rest.status).toBe(202);
    const viaRest = (rest.body as { jobId: string }).jobId;
    expect(viaHub).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(viaRest).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(viaRest).not.toBe(viaHub);

    const watches = new Map<string, JobWatch>();
    await Promise.all(
      Object.entries(clients).flatMap(([label, c]) => [viaHub, viaRest].map(async (id) => watches.set(`${label} ${id === viaHub ? 'hub-enqueued' : 'rest-enqueued'}`, await JobWatch.start(c, id)))),
    );
    // Watched from both nodes: each node is registered in the record once, and neither holds a channel for the job.
    for (const id of [viaHub, viaRest]) {
      const by = await watchedBy(d, id);
      expect(by.groupSubscribers).toBe(0);
      expect(by.routes).toHaveLength(2);
      expect(new Set(by.routes).size).toBe(2);
    }
    await Promise.all([...watches.values()].map((w) => w.terminal(30_000)));
    await delay(400); // anything after the terminal update would arrive by now
    const digest = expectedHash(ROUNDS);

    for (const [label, w] of watches) {
      expect.soft(invariantViolations(w), label).toEqual([]);
      // Watched right after enqueue, long before a multi-second job ends: the end arrives live.
      expect.soft(w.snapshot!.state, label).toMatch(/^(queued|active)$/);
      const final = w.live.at(-1)!;
      expect.soft(final, label).toMatchObject({ jobId: w.jobId, name: 'hash', state: 'completed', progress: 100, result: digest, attempt: 1, stage: 'hashing' });
      expect.soft(final.finishedAt, label).toBeGreaterThanOrEqual(final.startedAt!);
      // Progress within the run only grows and really is reported in between.
      const running = w.live.filter((u) => u.state === 'active');
      for (let i = 1; i < running.length; i++) expect.soft(running[i]!.progress, label).toBeGreaterThanOrEqual(running[i - 1]!.progress);
      expect.soft(running.filter((u) => u.progress > 0 && u.progress < 100).length, `${label}: intermediate progress updates`).toBeGreaterThanOrEqual(5);
    }

    for (const id of [viaHub, viaRest]) {
      const ofJob = [...watches.values()].filter((w) => w.jobId === id);
      // Every watcher, whatever node and protocol, ends on the same final update.
      expect(new Set(ofJob.map((w) => w.live.at(-1)!.seq)).size).toBe(1);
      // Coalescing at the source: the thread reports every 1%, watchers get about 10 per second.
      const live = ofJob[0]!.live;
      const running = live.filter((u) => u.state === 'active');
      const final = live.at(-1)!;
      const spanS = (final.updatedAt - running[0]!.updatedAt) / 1000;
      expect(spanS, 'the job must run long enough to measure a rate').toBeGreaterThan(0.8);
      // Intervals between updates per second (the start and the immediate 0% report come together).
      const rate = (running.length - 1) / spanS;
      expect(rate, `${running.length} progress updates in ${spanS.toFixed(2)} s`).toBeLessThanOrEqual(12);
    }
  });

  it('a job whose record already names as many hub nodes as it takes: a new watcher joins through the group channel and still gets every update', async () => {
    const rest = await api(d.hubA.url, 'POST', '/api/jobs', JSON.stringify({ name: 'hash', data: { rounds: 1_000_000 } }));
    const { jobId } = rest.body as { jobId: string };
    // Node ids of earlier watchers (gone nodes keep their place): the record is full.
    const redis = new Redis(d.redis.url);
    try {
      await redis.hset(`{${d.prefix}jobs}:job:${jobId}`, '_w', Array.from({ length: 32 }, (_, i) => `gone-node-${i}`).join(' '));
    } finally {
      redis.disconnect();
    }
    const w = await JobWatch.start(await pool.connect(`${d.hubB.url}/hubs/jobs`, { protocol: 'json' }), jobId);
    const by = await watchedBy(d, jobId);
    expect(by.routes[0]).toBe('*');
    expect(by.routes).toHaveLength(33);
    expect(by.groupSubscribers).toBe(1);
    await w.terminal(30_000);
    expect(w.live.at(-1)).toMatchObject({ state: 'completed', result: expectedHash(1_000_000) });
    expect(invariantViolations(w)).toEqual([]);
  });

  it('watching a job that already finished returns its final snapshot (and nothing follows)', async () => {
    const rest = await api(d.hubA.url, 'POST', '/api/jobs', JSON.stringify({ name: 'hash', data: { rounds: 20_000 } }));
    expect(rest.status).toBe(202);
    const { jobId } = rest.body as { jobId: string };
    const deadline = Date.now() + 10_000;
    let got = await api(d.hubA.url, 'GET', `/api/jobs/${jobId}`);
    while ((got.body as JobUpdate).state !== 'completed' && Date.now() < deadline) {
      await delay(50);
      got = await api(d.hubA.url, 'GET', `/api/jobs/${jobId}`);
    }
    const final = got.body as JobUpdate;
    expect(got.status).toBe(200);
    expect(final).toMatchObject({ jobId, name: 'hash', state: 'completed', progress: 100, result: expectedHash(20_000) });

    const late = [
      await JobWatch.start(await pool.connect(`${d.hubA.url}/hubs/jobs`, { protocol: 'json' }), jobId),
      await JobWatch.start(await pool.connect(`${d.hubB.url}/hubs/jobs`, { protocol: 'messagepack' }), jobId),
    ];
    await delay(300);
    for (const w of late) {
      expect(w.snapshot).toEqual(final);
      expect(w.live).toEqual([]);
      expect(invariantViolations(w)).toEqual([]);
    }
    // The REST snapshot of the other node is the same record.
    expect((await api(d.hubB.url, 'GET', `/api/jobs/${jobId}`)).body).toEqual(final);
    // Nothing can follow, so the late watchers did not register their nodes (the REST enqueue watched
    // nothing, so the record names none) nor take the group's channel; a second watch answers the same.
    expect(await watchedBy(d, jobId)).toEqual({ groupSubscribers: 0, routes: [] });
    const again = await JobWatch.start(await pool.connect(`${d.hubA.url}/hubs/jobs`, { protocol: 'json' }), jobId);
    expect(again.snapshot).toEqual(final);
    expect(await watchedBy(d, jobId)).toEqual({ groupSubscribers: 0, routes: [] });
  });

  it('a pipeline that fails in transform on attempt 1 goes back to queued with the error, then completes as attempt 2', async () => {
    const c = await pool.connect(`${d.hubB.url}/hubs/jobs`, { protocol: 'messagepack' });
    const { jobId } = await c.invoke<{ jobId: string }>('enqueue', 'pipeline', { items: 100, delayMs: 200, failAtStage: 'transform', failAttempts: 1 });
    const w = await JobWatch.start(c, jobId);
    const final = await w.terminal(15_000);
    await delay(300);
    expect(invariantViolations(w)).toEqual([]);
    expect(final).toMatchObject({ state: 'completed', attempt: 2, progress: 100, result: { items: 100 } });
    expect((final.result as { checksum: string }).checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(final.error).toBeUndefined(); // the retry cleared it

    const h = history(w);
    const failed = indexFrom(h, 0, (u) => u.state === 'queued' && u.attempt === 1 && u.error !== undefined);
    expect(failed, h.map((u) => `${u.seq}:${u.state}:${u.attempt}`).join(' ')).toBeGreaterThan(0);
    expect(h[failed]!.error).toMatch(/pipeline failed in stage 'transform' on attempt 1/);
    expect(starts(h.slice(0, failed)).map((u) => u.attempt)).toEqual([1]);
    const retried = indexFrom(h, failed + 1, (u) => u.state === 'active');
    expect(starts(h).map((u) => u.attempt)).toEqual([1, 2]);
    expect(retried).toBeGreaterThan(failed);
    expect(h[retried]).toMatchObject({ attempt: 2, progress: 0 });
    expect(h[retried]!.error).toBeUndefined();
    // Nothing of attempt 1 after attempt 2 started.
    expect(h.slice(retried).every((u) => u.attempt === 2)).toBe(true);
  });

  it('a pipeline that always fails in fetch ends failed after 3 attempts, with the message in error', async () => {
    const c = await pool.connect(`${d.hubA.url}/hubs/jobs`, { protocol: 'json' });
    const rest = await api(d.hubB.url, 'POST', '/api/jobs', JSON.stringify({ name: 'pipeline', data: { items: 10, delayMs: 200, failAtStage: 'fetch' } }));
    expect(rest.status).toBe(202);
    const { jobId } = rest.body as { jobId: string };
    const w = await JobWatch.start(c, jobId);
    const final = await w.terminal(15_000);
    await delay(300);
    expect(invariantViolations(w)).toEqual([]);
    expect(final).toMatchObject({ jobId, name: 'pipeline', state: 'failed', attempt: 3 });
    expect(final.error).toMatch(/pipeline failed in stage 'fetch' on attempt 3/);
    expect(final.result).toBeUndefined();
    // Each attempt's fetch stage takes 200 ms, so the watch (right after enqueue) saw all three.
    const h = history(w);
    expect(starts(h).map((u) => u.attempt)).toEqual([1, 2, 3]);
    const requeued = h.filter((u) => u.state === 'queued' && u.error !== undefined);
    expect(requeued.map((u) => u.attempt)).toEqual([1, 2]);
    expect(requeued[0]!.error).toMatch(/stage 'fetch' on attempt 1/);
    expect(requeued[1]!.error).toMatch(/stage 'fetch' on attempt 2/);
    const stored = await api(d.hubA.url, 'GET', `/api/jobs/${jobId}`);
    expect(stored.body).toEqual(final);
  });

  it('the CLI enqueues and watches a hash job to the end, exits 0 and prints the digest', async () => {
    const { code, stdout, stderr } = await runCli(['enqueue', 'hash', '{"rounds":20000}', '--watch', '--url', d.hubB.url], 15_000);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`result: "${expectedHash(20_000)}"`);
    const id = /enqueued hash as ([A-Za-z0-9_-]+)/.exec(stdout)?.[1];
    expect(id).toBeDefined();
    expect((await api(d.hubA.url, 'GET', `/api/jobs/${id}`)).body).toMatchObject({ state: 'completed', result: expectedHash(20_000) });
  });
});
