import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../faults/support.js';
import { JobWatch, api } from '../jobs/support.js';
import type { StartedProcess } from '../support/processes.js';
import { freePort, startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { clientPool } from '../support/signalr.js';
import { exitOf, scrape, startHubNode, startWorkerProcess } from './support.js';

// Worker SIGTERM with a running job. Worker A (SHUTDOWN_TIMEOUT_MS 2000) runs a ~4 s pipeline
// when it is told to stop: it hands the job back after 1 s and exits within its deadline; worker
// B picks the job up at once (the lock is 30 s, so this is the hand-back, not stall recovery) and
// completes it. Then B (SHUTDOWN_TIMEOUT_MS 6000) is told to stop during a ~2 s job: it finishes
// that job itself and then exits. Both serve /metrics on a port of their own.

const pipeline = (delayMs: number) => JSON.stringify({ name: 'pipeline', data: { items: 20, delayMs } });

describe('worker SIGTERM: running jobs finish or are handed back; the process exits within SHUTDOWN_TIMEOUT_MS', () => {
  const pool = clientPool();
  let redis: PrivateRedis;
  let hub: StartedProcess;
  let env: Record<string, string>;
  const workers: StartedProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    env = { REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix('wstop'), JOB_LOCK_MS: '30000', LOG_LEVEL: 'info' };
    hub = await startHubNode({ ...env, HUB_SECRET: randomBytes(32).toString('base64') });
  });
  afterEach(() => pool.stopAll());
  afterAll(async () => {
    await Promise.all([hub?.stop(), ...workers.map((w) => w.stop('SIGKILL'))]);
    await redis?.stop();
  });

  async function worker(id: string, shutdownMs: number): Promise<{ p: StartedProcess; metrics: string }> {
    const port = await freePort();
    const p = await startWorkerProcess({ ...env, NODE_ID: id, METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1', SHUTDOWN_TIMEOUT_MS: String(shutdownMs), WORKER_CONCURRENCY: '1' });
    workers.push(p);
    expect(p.output()).toContain(`worker metrics on http://127.0.0.1:${port}/metrics`);
    return { p, metrics: `http://127.0.0.1:${port}` };
  }

  it('hands a job still running at the deadline back; another worker completes it; the first exits 0 in time', async () => {
    const a = await worker('worker-a', 2000);
    const c = await pool.connect(`${hub.url}/hubs/jobs`);
    const { jobId } = (await api(hub.url, 'POST', '/api/jobs', pipeline(2000))).body as { jobId: string };
    const w = await JobWatch.start(c, jobId);
    const activeOnA = await w.until((u) => u.state === 'active', 5000, 'active on worker A');

    const before = await scrape(a.metrics);
    expect(before.value('switchboard_worker_active_jobs')).toBe(1);
    expect(before.value('switchboard_worker_concurrency')).toBe(1);
    expect(before.value('switchboard_worker_pool_size')).toBe(1);
    expect(before.samples.every((s) => s.labels['worker_id'] === 'worker-a')).toBe(true);
    const b = await worker('worker-b', 6000);

    const signalledAt = Date.now();
    a.p.child.kill('SIGTERM');
    const exit = await exitOf(a.p, 4000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - signalledAt).toBeLessThan(2000 + 500);
    expect(exit.at - signalledAt).toBeGreaterThanOrEqual(900); // it waited for the job first
    expect(a.p.output()).toMatch(/handed a running job back to the queue/);

    const final = await w.terminal(10_000);
    expect(final.state).toBe('completed');
    expect(final.result).toEqual({ items: 20, checksum: expect.any(String) });
    // What the watcher saw: active (A), queued (handed back), active again (B), completed; the
    // attempt number is unchanged, and no failure was recorded.
    const states = w.seen().filter((u) => u.seq >= activeOnA.seq).map((u) => u.state);
    const compact = states.filter((s, i) => s !== states[i - 1]);
    expect(compact).toEqual(['active', 'queued', 'active', 'completed']);
    expect(final.attempt).toBe(1);
    expect(final.error).toBeUndefined();
    expect(final.startedAt).toBeGreaterThan(signalledAt);

    const after = await scrape(b.metrics);
    expect(after.value('switchboard_worker_jobs_finished_total', { job: 'pipeline', state: 'completed' })).toBe(1);
    expect(after.value('switchboard_worker_job_run_duration_seconds_count', { job: 'pipeline', outcome: 'completed' })).toBe(1);
    expect(after.value('switchboard_worker_job_run_duration_seconds_sum', { job: 'pipeline', outcome: 'completed' })).toBeGreaterThan(3);
    expect(after.value('switchboard_worker_active_jobs')).toBe(0);
    expect(after.types.get('switchboard_worker_pool_busy')).toBe('gauge');
    expect(after.types.get('process_cpu_user_seconds_total')).toBe('counter');
  });

  it('lets a job that ends before the deadline finish on the stopping worker, then exits 0', async () => {
    const b = workers.find((p) => p.output().includes('worker-b'))!;
    const c = await pool.connect(`${hub.url}/hubs/jobs`);
    const { jobId } = (await api(hub.url, 'POST', '/api/jobs', pipeline(1000))).body as { jobId: string };
    const w = await JobWatch.start(c, jobId);
    const active = await w.until((u) => u.state === 'active', 5000, 'active on worker B');

    const signalledAt = Date.now();
    b.child.kill('SIGTERM');
    const final = await w.terminal(6000);
    const exit = await exitOf(b, 6000);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(final.state).toBe('completed');
    expect(final.startedAt).toBe(active.startedAt); // the same run: not restarted elsewhere
    expect(w.seen().some((u) => u.seq > active.seq && u.state === 'queued')).toBe(false);
    // It exited after the job's end and well before its 6 s deadline.
    expect(exit.at).toBeGreaterThanOrEqual(final.finishedAt!);
    expect(exit.at - signalledAt).toBeLessThan(4000);
    await waitFor('no worker left', () => workers.every((p) => p.child.exitCode !== null));
  });
});
