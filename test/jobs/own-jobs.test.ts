import { spawn } from 'node:child_process';
import type { JobUpdate } from '@switchboard/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/processes.js';
import { clientPool, delay } from '../support/signalr.js';
import { JobWatch, api, invariantViolations, startJobsDeployment, type JobsDeployment } from './support.js';

const FIXTURES = 'test/jobs/fixtures';

/** Runs an app until it exits by itself (bounded); what it printed and its exit code. */
function runToExit(script: string, env: Record<string, string>, timeoutMs = 15_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd: REPO_ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit within ${timeoutMs} ms. Output:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('a bad JOBS_MODULE or HUBS_MODULE stops the process with exit code 2 and says what is wrong', () => {
  const cases: [string, RegExp][] = [
    [`${FIXTURES}/no-such-file.mjs`, /SB_JOB_SET_INVALID: JOBS_MODULE 'test\/jobs\/fixtures\/no-such-file\.mjs' \(.*\) does not exist: give the path of the built ES module/],
    [`${FIXTURES}/bad-throws.mjs`, /SB_JOB_SET_INVALID: JOBS_MODULE '.*bad-throws\.mjs' .*could not be imported: the job set module failed on purpose at import/],
    [`${FIXTURES}/bad-no-default.mjs`, /SB_JOB_SET_INVALID: JOBS_MODULE '.*bad-no-default\.mjs' .*has no default export: end it with `export default \[myJob, otherJob\]`/],
    [`${FIXTURES}/bad-not-array.mjs`, /SB_JOB_SET_INVALID: JOBS_MODULE '.*bad-not-array\.mjs' .* must be an array of job definitions \(defineJob results\), got an object/],
    [`${FIXTURES}/bad-entry.mjs`, /SB_JOB_SET_INVALID: JOBS_MODULE '.*bad-entry\.mjs' .*: entry 0 \('report'\) is not a job definition \(an object\); make each entry with defineJob/],
    [`${FIXTURES}/bad-duplicate.mjs`, /SB_JOB_SET_INVALID: JOBS_MODULE '.*bad-duplicate\.mjs' .*: the job name 'report' appears twice; job names must be unique/],
  ];
  for (const app of ['hub', 'worker'] as const) {
    it(`${app}: every kind of bad job set module`, async () => {
      const env = { REDIS_URL: 'redis://127.0.0.1:6379', PORT: '0', HOST: '127.0.0.1' };
      const results = await Promise.all(cases.map(([module]) => runToExit(`apps/${app}/dist/main.js`, { ...env, JOBS_MODULE: module })));
      results.forEach(({ code, output }, i) => {
        expect(code, output).toBe(2);
        expect(output).toMatch(new RegExp(`^${app}: `, 'm'));
        expect(output).toMatch(cases[i]![1]);
      });
    });
  }

  it('hub: a HUBS_MODULE that is missing or exports no function', async () => {
    const env = { PORT: '0', HOST: '127.0.0.1' };
    const missing = await runToExit('apps/hub/dist/main.js', { ...env, HUBS_MODULE: `${FIXTURES}/nope.mjs` });
    expect(missing.code).toBe(2);
    expect(missing.output).toMatch(/hub: SB_CONFIG_INVALID: HUBS_MODULE 'test\/jobs\/fixtures\/nope\.mjs' does not exist/);
    const notFn = await runToExit('apps/hub/dist/main.js', { ...env, HUBS_MODULE: `${FIXTURES}/bad-hubs.mjs` });
    expect(notFn.code).toBe(2);
    expect(notFn.output).toMatch(/HUBS_MODULE '.*bad-hubs\.mjs' must default-export a function that maps your hubs/);
  });
});

// A team's own job set (test/jobs/fixtures/report-jobs.mjs: stages, a thread task, retries, a
// result, a notification on its own hub) run by the apps' processes through JOBS_MODULE and
// HUBS_MODULE: two hub nodes, one worker with one thread.
describe('your own jobs and hubs through JOBS_MODULE and HUBS_MODULE', () => {
  let d: JobsDeployment;
  const pool = clientPool();

  beforeAll(async () => {
    d = await startJobsDeployment({
      env: { JOBS_MODULE: `${FIXTURES}/report-jobs.mjs`, HUBS_MODULE: `${FIXTURES}/notifications-hub.mjs` },
      workers: [{ POOL_SIZE: '1', WORKER_CONCURRENCY: '2' }],
    });
  });
  afterEach(() => pool.stopAll());
  afterAll(async () => {
    await d?.stop();
  });

  it('only the set\'s jobs exist: the example jobs are gone and errors list the set\'s names', async () => {
    const c = await pool.connect(`${d.hubA.url}/hubs/jobs`);
    await expect(c.invoke('enqueue', 'hash', { rounds: 1 })).rejects.toThrow(/SB_JOB_UNKNOWN: Unknown job name "hash"; known jobs: report, note\./);
    await expect(c.invoke('enqueue', 'report', { pages: 0 })).rejects.toThrow(/SB_JOB_INVALID_DATA: Invalid data for job 'report': pages: /);
    const rest = await api(d.hubB.url, 'POST', '/api/jobs', JSON.stringify({ name: 'reports', data: {} }));
    expect(rest).toMatchObject({ status: 400, body: { code: 'SB_JOB_UNKNOWN', error: 'Unknown job name "reports"; known jobs: report, note.' } });
  });

  it('a report enqueued on one node and watched on the other: its stages in order, monotonic seq, the result, and a notification on the own hub from the worker', async () => {
    const enqueuer = await pool.connect(`${d.hubA.url}/hubs/jobs`);
    const watcher = await pool.connect(`${d.hubB.url}/hubs/jobs`, { protocol: 'messagepack' });
    const notified = await pool.connect(`${d.hubA.url}/hubs/notifications`);
    expect(await notified.invoke('ping')).toBe('pong');
    const ready: unknown[] = [];
    notified.on('reportReady', (m: unknown) => ready.push(m));
    const { jobId } = await enqueuer.invoke<{ jobId: string }>('enqueue', 'report', { pages: 400, msPerPage: 2 });
    const w = await JobWatch.start(watcher, jobId);
    const final = await w.terminal(30_000);
    await delay(300);
    expect(final).toMatchObject({ name: 'report', state: 'completed', progress: 100, result: { pages: 400, digest: expect.stringMatching(/^[0-9a-f]{64}$/), attempt: 1 } });
    expect(invariantViolations(w)).toEqual([]);
    const stages = [...new Set(w.seen().flatMap((u) => (u.stage ? [u.stage] : [])))];
    expect(stages).toEqual(['fetch', 'render', 'store']);
    expect(w.seen().some((u) => u.stage === 'render' && u.progress > 10 && u.progress < 90)).toBe(true);
    expect(ready).toEqual([{ jobId, pages: 400 }]);
  });

  it('a retry after a failing first attempt: queued with the error, then attempt 2 completes', async () => {
    const c = await pool.connect(`${d.hubA.url}/hubs/jobs`);
    const { jobId } = await c.invoke<{ jobId: string }>('enqueue', 'report', { pages: 5, failFirstAttempt: true });
    const w = await JobWatch.start(c, jobId);
    const final = await w.terminal(30_000);
    expect(final).toMatchObject({ state: 'completed', attempt: 2, result: { attempt: 2 } });
    expect(w.seen().some((u) => u.state === 'queued' && u.attempt === 1 && /first attempt fails on purpose/.test(u.error ?? ''))).toBe(true);
  });

  it('cancel mid-task ends the job cancelled and frees the only thread at once', async () => {
    const c = await pool.connect(`${d.hubA.url}/hubs/jobs`);
    // About 20 s of rendering in the worker's only thread.
    const { jobId } = await c.invoke<{ jobId: string }>('enqueue', 'report', { pages: 10_000, msPerPage: 2 });
    const w = await JobWatch.start(c, jobId);
    await w.until((u) => u.stage === 'render' && u.progress > 11, 15_000, 'render progress');
    const t0 = Date.now();
    expect(await c.invoke<boolean>('cancel', jobId)).toBe(true);
    expect((await w.terminal(5_000)).state).toBe('cancelled');
    expect(Date.now() - t0).toBeLessThan(3_000);
    // The thread is free: a short report completes at once (behind the 20 s task it could not).
    const { jobId: next } = await c.invoke<{ jobId: string }>('enqueue', 'report', { pages: 5 });
    const started = Date.now();
    expect((await (await JobWatch.start(c, next)).terminal(8_000)).state).toBe('completed');
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('a job the worker\'s job set lacks ends failed with SB_JOB_NOT_IN_WORKER_SET, and the hub node reports the mismatch', async () => {
    // Replace the worker by one with an older job set (no `note`).
    await Promise.all(d.workers.splice(0).map((x) => x.stop('SIGTERM', 5000)));
    const old = await d.startWorker({ JOBS_MODULE: `${FIXTURES}/report-only.mjs` });
    const c = await pool.connect(`${d.hubA.url}/hubs/jobs`);
    const { jobId } = await c.invoke<{ jobId: string }>('enqueue', 'note', { text: 'hi' });
    const final: JobUpdate = await (await JobWatch.start(c, jobId)).terminal(15_000);
    expect(final.state).toBe('failed');
    expect(final.error).toMatch(/^SB_JOB_NOT_IN_WORKER_SET: worker \d+ has no job 'note' in its job set \(it has: report\)\. Give hub nodes and workers the same JOBS_MODULE\.$/);
    // The leader hub node compares heartbeats with its own set (about once a second).
    const deadline = Date.now() + 8000;
    const hubsOutput = () => d.hubA.output() + d.hubB.output();
    while (!/runs another job set than this hub node: jobs it lacks \(note\)/.test(hubsOutput()) && Date.now() < deadline) await delay(200);
    expect(hubsOutput()).toMatch(/worker .* runs another job set than this hub node: jobs it lacks \(note\) fail there with SB_JOB_NOT_IN_WORKER_SET/);
    expect(old.output()).toMatch(/a job that is not in this worker's job set/);
  });
});
