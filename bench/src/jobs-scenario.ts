import { randomBytes } from 'node:crypto';
import * as signalR from '@microsoft/signalr';
import type { JobUpdate } from '@switchboard/contracts';
import { startNodeProcess, type StartedProcess } from '@switchboard/test/support/processes';
import { startRedis } from '@switchboard/test/support/redis';
import { percentile } from './stats.js';

export interface JobsScenarioOptions {
  /** Small jobs pushed through the whole pipeline for the jobs/s figure. */
  jobs: number;
  /** Concurrent long jobs for the progress-delivery figure. */
  progressJobs: number;
  /** Watchers per long job (spread over both hub nodes). */
  watchersPerJob: number;
  /** How long the long jobs run, roughly (hash rounds are calibrated to it). */
  progressSeconds: number;
}

export interface JobsScenarioResult {
  jobsPerSecond: number;
  jobLatencyP50Ms: number;
  jobLatencyP99Ms: number;
  progressUpdatesDeliveredPerSecond: number;
  maxUpdatesPerSecondPerJob: number;
  terminalExactlyOnce: boolean;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** Rejects after `ms` (and clears its timer either way, so the process can exit). */
async function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message())), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function client(url: string): Promise<signalR.HubConnection> {
  const c = new signalR.HubConnectionBuilder()
    .withUrl(`${url}/hubs/jobs`, { transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.None)
    .build();
  await c.start();
  return c;
}

/**
 * 2 hub node processes + 2 worker processes + a private Redis; watchers are official clients in
 * this process. (1) `jobs` tiny hash jobs, each enqueued and watched by one client: jobs/s from
 * the first enqueue to the last terminal update, and per-job enqueue-to-terminal latency.
 * (2) `progressJobs` long hash jobs at once, each watched by `watchersPerJob` clients on both
 * nodes: progress updates delivered per second.
 */
export async function runJobsScenario(options: JobsScenarioOptions): Promise<JobsScenarioResult> {
  const redis = await startRedis();
  const env = { REDIS_URL: redis.url, REDIS_PREFIX: 'bench:', HUB_SECRET: randomBytes(32).toString('base64'), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'error' };
  const procs: StartedProcess[] = [];
  const clients: signalR.HubConnection[] = [];
  try {
    const hubs = await Promise.all([0, 1].map(() => startNodeProcess('apps/hub/dist/main.js', env)));
    procs.push(...hubs);
    const workers = await Promise.all(
      [0, 1].map(() => startNodeProcess('apps/worker/dist/main.js', { ...env, POOL_SIZE: '1', WORKER_CONCURRENCY: '8' }, 20_000, /worker ready()/)),
    );
    procs.push(...workers);

    // (1) Job pipeline throughput.
    const watchers = await Promise.all(Array.from({ length: 20 }, (_, i) => client(hubs[i % 2]!.url)));
    clients.push(...watchers);
    const latencies: number[] = [];
    const terminals = new Map<string, number>();
    let done = 0;
    let resolveAll!: () => void;
    const allDone = new Promise<void>((r) => (resolveAll = r));
    const startedAt = new Map<string, number>();
    for (const w of watchers) {
      w.on('jobUpdated', (u: JobUpdate) => {
        if (!TERMINAL.has(u.state)) return;
        const n = (terminals.get(u.jobId) ?? 0) + 1;
        terminals.set(u.jobId, n);
        if (n === 1) {
          latencies.push(performance.now() - (startedAt.get(u.jobId) ?? performance.now()));
          if (++done === options.jobs) resolveAll();
        }
      });
    }
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: options.jobs }, async (_, i) => {
        const w = watchers[i % watchers.length]!;
        const began = performance.now();
        const { jobId } = await w.invoke<{ jobId: string }>('enqueue', 'hash', { rounds: 1000 });
        startedAt.set(jobId, began);
        const snap = await w.invoke<JobUpdate>('watch', jobId);
        if (TERMINAL.has(snap.state) && !terminals.has(jobId)) {
          terminals.set(jobId, 0);
          latencies.push(performance.now() - began);
          if (++done === options.jobs) resolveAll();
        }
      }),
    );
    await withTimeout(allDone, 120_000, () => `jobs scenario: only ${done}/${options.jobs} jobs ended within 120 s`);
    const elapsed = (performance.now() - t0) / 1000;
    const terminalExactlyOnce = [...terminals.values()].every((n) => n <= 1);
    latencies.sort((a, b) => a - b);

    // (2) Progress delivery: long jobs, many watchers each.
    const perJob = new Map<string, number[]>();
    let delivered = 0;
    const progressWatchers = await Promise.all(
      Array.from({ length: options.progressJobs * options.watchersPerJob }, (_, i) => client(hubs[i % 2]!.url)),
    );
    clients.push(...progressWatchers);
    for (const w of progressWatchers) {
      w.on('jobUpdated', (u: JobUpdate) => {
        if (u.state !== 'active') return;
        delivered++;
        const times = perJob.get(u.jobId) ?? [];
        times.push(performance.now());
        perJob.set(u.jobId, times);
      });
    }
    const rounds = Math.round(options.progressSeconds * 400_000);
    const ids = await Promise.all(
      Array.from({ length: options.progressJobs }, async (_, j) => (await progressWatchers[j]!.invoke<{ jobId: string }>('enqueue', 'hash', { rounds })).jobId),
    );
    const ended = new Set<string>();
    const allEnded = new Promise<void>((resolve) => {
      for (const w of progressWatchers) {
        w.on('jobUpdated', (u: JobUpdate) => {
          if (TERMINAL.has(u.state)) ended.add(u.jobId);
          if (ended.size === ids.length) resolve();
        });
      }
    });
    const p0 = performance.now();
    await Promise.all(ids.map((id, j) => Promise.all(Array.from({ length: options.watchersPerJob }, (_, k) => progressWatchers[j * options.watchersPerJob + k]!.invoke('watch', id)))));
    await withTimeout(allEnded, 180_000, () => `progress scenario: ${ended.size}/${ids.length} jobs ended within 180 s`);
    const progressElapsed = (performance.now() - p0) / 1000;
    // Per-job rate as one watcher sees it (all watchers of a job see the same updates).
    let maxRate = 0;
    for (const times of perJob.values()) {
      const perWatcher = times.length / options.watchersPerJob;
      const span = (times[times.length - 1]! - times[0]!) / 1000;
      if (span > 0.5) maxRate = Math.max(maxRate, perWatcher / span);
    }
    return {
      jobsPerSecond: options.jobs / elapsed,
      jobLatencyP50Ms: percentile(latencies, 50),
      jobLatencyP99Ms: percentile(latencies, 99),
      progressUpdatesDeliveredPerSecond: delivered / progressElapsed,
      maxUpdatesPerSecondPerJob: maxRate,
      terminalExactlyOnce,
    };
  } finally {
    await Promise.allSettled(clients.map((c) => c.stop()));
    await Promise.allSettled(procs.map((p) => p.stop()));
    await redis.stop();
  }
}
