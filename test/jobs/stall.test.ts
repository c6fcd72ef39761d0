import type { JobUpdate } from '@switchboard/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientPool, delay } from '../support/signalr.js';
import { JobWatch, api, invariantViolations, startJobsDeployment, type JobsDeployment } from './support.js';

// Short lock and stalled-check interval (JOB_LOCK_MS 2000, JOB_STALLED_INTERVAL_MS 1000): a dead
// worker's job is handed to another within a few seconds.
describe('jobs: a worker process killed mid-job', () => {
  let d: JobsDeployment;
  const pool = clientPool();

  beforeAll(async () => {
    d = await startJobsDeployment({ workers: [{ POOL_SIZE: '1' }] });
  });
  afterEach(() => pool.stopAll());
  afterAll(async () => {
    await d?.stop();
  });

  it('SIGKILL of the worker running a pipeline: another worker resumes it and the watcher sees it restart and complete', async () => {
    const workerA = d.workers[0]!;
    const c = await pool.connect(`${d.hubA.url}/hubs/jobs`, { protocol: 'json' });
    // fetch and publish take delayMs each: the job runs ~4 s, so it is still in fetch when A dies.
    const rest = await api(d.hubB.url, 'POST', '/api/jobs', JSON.stringify({ name: 'pipeline', data: { items: 50, delayMs: 2000 } }));
    expect(rest.status).toBe(202);
    const { jobId } = rest.body as { jobId: string };
    const w = await JobWatch.start(c, jobId);
    await w.until((u) => u.state === 'active', 5_000, 'active on worker A');

    const workerB = await d.startWorker({ POOL_SIZE: '1' });
    const killedAt = Date.now();
    workerA.child.kill('SIGKILL');
    await new Promise((r) => workerA.child.once('exit', r));
    expect(workerA.child.signalCode).toBe('SIGKILL');
    // A's last update was before the kill; it was mid-fetch.
    const beforeKill = w.latest();
    expect(beforeKill.state).toBe('active');
    expect(beforeKill.progress).toBeLessThan(20);

    const final = await w.terminal(20_000);
    await delay(300);
    expect(final).toMatchObject({ jobId, name: 'pipeline', state: 'completed', progress: 100, result: { items: 50 } });
    expect((final.result as { checksum: string }).checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(invariantViolations(w)).toEqual([]);

    // The resume is visible: a second `active` with progress back at 0, after the kill.
    const seen = w.seen();
    const actives = seen.filter((u) => u.state === 'active');
    const starts = actives.filter((u, i) => i === 0 || u.startedAt !== actives[i - 1]!.startedAt);
    expect(starts.length, seen.map((u) => `${u.seq}:${u.state}:${u.progress}`).join(' ')).toBe(2);
    const resumed = starts[1]!;
    expect(resumed.seq).toBeGreaterThan(beforeKill.seq);
    expect(resumed.progress).toBe(0);
    expect(resumed.startedAt).toBeGreaterThanOrEqual(killedAt);
    expect(final.startedAt).toBe(resumed.startedAt);
    // Progress after the resume only grows again.
    const after = seen.slice(seen.indexOf(resumed));
    for (let i = 1; i < after.length; i++) expect(after[i]!.progress).toBeGreaterThanOrEqual(after[i - 1]!.progress);

    expect(workerB.child.exitCode).toBeNull();
    expect(((await api(d.hubA.url, 'GET', `/api/jobs/${jobId}`)).body as JobUpdate).state).toBe('completed');
  });
});
