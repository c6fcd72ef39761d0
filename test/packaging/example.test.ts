import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobUpdate } from '@switchboard/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobWatch, invariantViolations } from '../jobs/support.js';
import { REPO_ROOT, type StartedProcess } from '../support/processes.js';
import { startRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';
import { clientPool, delay, nextCalls } from '../support/signalr.js';
import { packAndInstall, type InstalledProject } from './support.js';

// The example project (examples/reports), as a team would have it: a project outside the
// repository with the packages installed from their tarballs (no workspace links), built with its
// own TypeScript, and run with the installed binaries: Redis, 2 hub nodes (switchboard-hub with
// JOBS_MODULE and HUBS_MODULE) and 2 workers (switchboard-worker with JOBS_MODULE). Official
// clients enqueue on one node and watch on the other.
const rootDeps = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies;
const EXTRA = {
  '@microsoft/signalr': rootDeps['@microsoft/signalr']!,
  typescript: rootDeps['typescript']!,
  '@types/node': rootDeps['@types/node']!,
};

/** Starts an installed binary in the project; resolves when its stdout matches `ready` (group 1 → url). */
function startBin(project: InstalledProject, bin: string, env: Record<string, string>, ready: RegExp): Promise<StartedProcess> {
  const child = spawn(join(project.dir, 'node_modules/.bin', bin), [], { cwd: project.dir, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000) => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`${bin} was not ready within 20 s:\n${out}`))), 20_000);
    const check = () => {
      const m = ready.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve({ child, url: m[1] ?? '', output: () => out, stop });
    };
    child.stdout.on('data', check);
    void exited.then((code) => (clearTimeout(timer), reject(new Error(`${bin} exited with ${code}:\n${out}`))));
  });
}

describe('the example project, installed from tarballs and run with the binaries', { timeout: 240_000 }, () => {
  const pool = clientPool();
  let project: InstalledProject | undefined;
  let redis: PrivateRedis | undefined;
  const processes: StartedProcess[] = [];
  let hubA: StartedProcess;
  let hubB: StartedProcess;

  beforeAll(async () => {
    [project, redis] = await Promise.all([packAndInstall({ extraDeps: EXTRA }), startRedis()]);
    // The example's sources and tsconfig; its package.json scripts run the same binaries.
    cpSync(join(REPO_ROOT, 'examples/reports/src'), join(project.dir, 'src'), { recursive: true });
    cpSync(join(REPO_ROOT, 'examples/reports/tsconfig.json'), join(project.dir, 'tsconfig.json'));
    await project.exec('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json'], { timeoutMs: 120_000 });
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix('example'), HUB_SECRET: randomBytes(32).toString('base64'), JOBS_MODULE: './dist/jobs.js' };
    const hub = () => startBin(project!, 'switchboard-hub', { ...env, HUBS_MODULE: './dist/hubs-module.js', PORT: '0', HOST: '127.0.0.1' }, /listening on (http:\/\/\S+)/);
    const worker = () => startBin(project!, 'switchboard-worker', { ...env, POOL_SIZE: '1', WORKER_CONCURRENCY: '1' }, /worker ready/);
    const started = await Promise.allSettled([hub(), hub(), worker(), worker()]);
    for (const s of started) if (s.status === 'fulfilled') processes.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    [hubA, hubB] = processes as [StartedProcess, StartedProcess];
  }, 240_000);

  afterAll(async () => {
    await pool.stopAll();
    await Promise.allSettled(processes.map((p) => p.stop('SIGTERM', 5000)));
    await redis?.stop();
    project?.cleanup();
  });

  it('the workers run the project job set (and nothing else)', () => {
    for (const w of processes.slice(2)) expect(w.output()).toMatch(/worker ready: .*jobs: report$/m);
  });

  it('enqueued on one node, watched on the other: stages in order, monotonic seq, the result, and the own hub notified from the worker', async () => {
    const enqueuer = await pool.connect(`${hubA.url}/hubs/jobs`);
    const watcher = await pool.connect(`${hubB.url}/hubs/jobs`, { protocol: 'messagepack' });
    const notifications = await pool.connect(`${hubA.url}/hubs/notifications`);
    expect(await notifications.invoke('ping')).toBe('pong');
    const note = nextCalls(notifications, 'reportReady', 1, 20_000);
    const { jobId } = await enqueuer.invoke<{ jobId: string }>('enqueue', 'report', { month: '2026-11', pages: 100, msPerPage: 5 });
    const w = await JobWatch.start(watcher, jobId);
    const final = await w.terminal(30_000);
    await delay(300);
    expect(invariantViolations(w)).toEqual([]);
    expect(final).toMatchObject({ name: 'report', state: 'completed', result: { month: '2026-11', pages: 100, bytes: 204_800, attempt: 1 } });
    expect([...new Set(w.seen().flatMap((u) => (u.stage ? [u.stage] : [])))]).toEqual(['fetch', 'render', 'store']);
    expect(await note).toEqual([[{ jobId, month: '2026-11', pages: 100 }]]);
  });

  it('cancel mid-render ends both jobs cancelled and frees the workers\' threads at once', async () => {
    const c = await pool.connect(`${hubB.url}/hubs/jobs`);
    // About 30 s of rendering each: one per worker (each has one thread and runs one job at a time).
    const long = await Promise.all([0, 1].map(() => c.invoke<{ jobId: string }>('enqueue', 'report', { month: '2026-10', pages: 6000, msPerPage: 5 })));
    const watches = await Promise.all(long.map(({ jobId }) => JobWatch.start(c, jobId)));
    await Promise.all(watches.map((w) => w.until((u) => u.stage === 'render' && u.progress > 10, 20_000, 'render progress')));
    const t0 = Date.now();
    expect(await Promise.all(long.map(({ jobId }) => c.invoke<boolean>('cancel', jobId)))).toEqual([true, true]);
    for (const w of watches) expect((await w.terminal(5000)).state).toBe('cancelled');
    expect(Date.now() - t0).toBeLessThan(5000);
    const { jobId } = await c.invoke<{ jobId: string }>('enqueue', 'report', { month: '2026-09', pages: 5 });
    expect((await (await JobWatch.start(c, jobId)).terminal(10_000)).state).toBe('completed');
  });

  it('a retry after a failing first attempt completes on attempt 2', async () => {
    const c = await pool.connect(`${hubA.url}/hubs/jobs`);
    const { jobId } = await c.invoke<{ jobId: string }>('enqueue', 'report', { month: '2026-08', pages: 3, failFirstFetch: true });
    const w = await JobWatch.start(c, jobId);
    const final: JobUpdate = await w.terminal(20_000);
    expect(final).toMatchObject({ state: 'completed', attempt: 2, result: { attempt: 2 } });
    expect(w.seen().some((u) => u.state === 'queued' && /figures service timed out/.test(u.error ?? ''))).toBe(true);
  });

  it('invalid data and unknown names are refused with their codes', async () => {
    const c = await pool.connect(`${hubA.url}/hubs/jobs`);
    await expect(c.invoke('enqueue', 'report', { month: 'November' })).rejects.toThrow(/SB_JOB_INVALID_DATA: Invalid data for job 'report': month: a month as YYYY-MM/);
    await expect(c.invoke('enqueue', 'hash', { rounds: 1 })).rejects.toThrow(/SB_JOB_UNKNOWN: Unknown job name "hash"; known jobs: report\./);
  });

  it("the example's own Node client (typed by the job set) enqueues, watches and prints the result", async () => {
    const { stdout } = await project!.exec(process.execPath, ['dist/client.js', '--url', hubB.url, '--month', '2026-07', '--pages', '20'], { timeoutMs: 60_000 });
    expect(stdout).toMatch(/^enqueued report \S+$/m);
    expect(stdout).toMatch(/ completed .*100%$/m);
    expect(stdout).toMatch(/^result: \{"month":"2026-07","pages":20,/m);
    expect(stdout).toMatch(/^notification: report 2026-07 is ready \(20 pages\)$/m);
  });
});
