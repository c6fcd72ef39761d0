import { fileURLToPath } from 'node:url';
import { JobKeys } from '@switchboard/jobs';
import { startNodeProcess, type StartedProcess } from '@switchboard/test/support/processes';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { benchHubEnv, cpuSeconds, hubScript } from './proc.js';

/**
 * The processes of the jobs scenarios and what they cost: Switchboard hub nodes and workers (the
 * apps as they ship, with the benchmark's job set), CPU per process group from /proc, and Redis's
 * own counters (`INFO stats`, `INFO commandstats`) read before and after a measured window.
 */

/** The benchmark's job set (noop, thread, progress), loaded by hub nodes and workers alike. */
export const BENCH_JOBS_MODULE = fileURLToPath(new URL('../jobs/bench-jobs.mjs', import.meta.url));
const PREFIX = 'bench:';
/** bench-jobs.mjs's `progress` jobs end when this channel gets a message (see there). */
export const PROGRESS_STOP_CHANNEL = 'bench:progress-stop';

export const cpuOf = (pids: readonly number[]) => pids.reduce((s, p) => s + cpuSeconds(p), 0);

/** What Redis did: commands by name (commands run inside scripts included), and reads processed. */
export interface RedisCounters {
  commands: Record<string, number>;
  /** Socket reads Redis processed: about one per round trip (a pipeline arriving in one read counts once). */
  reads: number;
  /** Every command, those inside Lua scripts included. */
  total: number;
}

/** Redis's work per job over a window: the proxy for round trips, commands, scripts and the top commands. */
export interface RedisCost {
  readsPerJob: number;
  commandsPerJob: number;
  scriptCallsPerJob: number;
  /** The commands that most contributed, per job (inside scripts included). */
  top: [string, number][];
}

export class RedisStats {
  private readonly client: Redis;
  constructor(url: string) {
    this.client = new Redis(url, { maxRetriesPerRequest: 2 });
  }
  async read(): Promise<RedisCounters> {
    const [stats, cmds] = await Promise.all([this.client.info('stats'), this.client.info('commandstats')]);
    const commands: Record<string, number> = {};
    for (const m of cmds.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) commands[m[1]!] = Number(m[2]);
    const num = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(stats)?.[1] ?? Number.NaN);
    return { commands, reads: num('total_reads_processed'), total: num('total_commands_processed') };
  }
  /**
   * Switchboard's queue as BullMQ counts it: after a drain nothing may be left waiting or active.
   * A watcher sees `completed` just before BullMQ moves the job out of `active` (the store write
   * and publish come first; 1,000 jobs ending at once take seconds on a busy machine), so this
   * waits up to `graceMs` for the count to reach 0.
   */
  async leftInQueue(graceMs: number, queueName = new JobKeys(PREFIX).queueName, prefix = new JobKeys(PREFIX).bullPrefix): Promise<{ wait: number; active: number }> {
    const queue = new Queue(queueName, { connection: this.client, prefix });
    const deadline = performance.now() + graceMs;
    for (;;) {
      const c = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
      const left = { wait: (c['wait'] ?? 0) + (c['delayed'] ?? 0) + (c['prioritized'] ?? 0), active: c['active'] ?? 0 };
      if ((left.wait === 0 && left.active === 0) || performance.now() > deadline) return left;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(channel, message);
  }
  async close(): Promise<void> {
    await this.client.quit().catch(() => {});
  }
}

export function redisCost(before: RedisCounters, after: RedisCounters, jobs: number): RedisCost {
  const per = (n: number) => (jobs > 0 ? n / jobs : Number.NaN);
  const diff = Object.entries(after.commands)
    // The window's own INFO calls are not the pipeline's.
    .filter(([name]) => name !== 'info')
    .map(([name, n]) => [name, n - (before.commands[name] ?? 0)] as [string, number])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  const scripts = diff.filter(([name]) => /^(evalsha|eval|fcall)/.test(name)).reduce((s, [, n]) => s + n, 0);
  return {
    readsPerJob: per(after.reads - before.reads),
    commandsPerJob: per(after.total - before.total),
    scriptCallsPerJob: per(scripts),
    top: diff.slice(0, 6).map(([name, n]) => [name, per(n)]),
  };
}

/** CPU of each process group over a window: µs per job and % of one core. */
export interface CpuCost {
  usPerJob: Record<string, number>;
  percent: Record<string, number>;
}

export class CostWindow {
  private readonly cpu0: Record<string, number>;
  private readonly t0 = performance.now();
  private constructor(
    private readonly groups: Record<string, readonly number[]>,
    private readonly stats: RedisStats,
    private readonly redis0: RedisCounters,
  ) {
    this.cpu0 = Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, cpuOf(pids)]));
  }
  static async open(groups: Record<string, readonly number[]>, stats: RedisStats): Promise<CostWindow> {
    return new CostWindow(groups, stats, await stats.read());
  }
  async close(jobs: number): Promise<{ seconds: number; cpu: CpuCost; redis: RedisCost }> {
    const seconds = (performance.now() - this.t0) / 1000;
    const redis1 = await this.stats.read();
    const usPerJob: Record<string, number> = {};
    const percent: Record<string, number> = {};
    for (const [k, pids] of Object.entries(this.groups)) {
      const used = cpuOf(pids) - this.cpu0[k]!;
      usPerJob[k] = jobs > 0 ? (used * 1e6) / jobs : Number.NaN;
      percent[k] = (used / seconds) * 100;
    }
    return { seconds, cpu: { usPerJob, percent }, redis: redisCost(this.redis0, redis1, jobs) };
  }
}

/** Switchboard's hub nodes and workers on one private Redis, restartable with other counts. */
export class JobsCluster {
  hubs: StartedProcess[] = [];
  workers: StartedProcess[] = [];
  /** Every process started, for their warnings. */
  private readonly started: StartedProcess[] = [];
  private readonly env: Record<string, string>;

  constructor(redisUrl: string, private readonly profileArgs: string = '') {
    this.env = benchHubEnv(redisUrl, PREFIX, { JOBS_MODULE: BENCH_JOBS_MODULE, NODE_OPTIONS: [process.env['NODE_OPTIONS'], profileArgs].filter(Boolean).join(' ') });
  }

  async startHubs(n: number): Promise<void> {
    const started = await Promise.all(Array.from({ length: n }, (_, i) => startNodeProcess(hubScript(), { ...this.env, BENCH_PROFILE_NAME: `jobs-hub-${i}` })));
    this.hubs.push(...started);
    this.started.push(...started);
  }

  /** Replaces the workers with `n` new ones (WORKER_CONCURRENCY `concurrency`, POOL_SIZE `poolSize` threads each). */
  async setWorkers(n: number, concurrency: number, poolSize: number): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.stop()));
    this.workers = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        startNodeProcess(
          'apps/worker/dist/main.js',
          { ...this.env, POOL_SIZE: String(poolSize), WORKER_CONCURRENCY: String(concurrency), BENCH_PROFILE_NAME: `jobs-worker-${i}` },
          20_000,
          /worker ready()/,
        ),
      ),
    );
    this.started.push(...this.workers);
  }

  /** What hub nodes and workers logged at warn or error (pino JSON lines), most frequent first: `count× message`. */
  warnings(): string[] {
    const counts = new Map<string, number>();
    for (const p of this.started) {
      for (const line of p.output().split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string }; error?: string | { message?: string } };
          const detail = entry.err?.message ?? (typeof entry.error === 'string' ? entry.error : entry.error?.message);
          const key = `${entry.msg ?? line.slice(0, 120)}${detail ? `: ${detail.slice(0, 160)}` : ''}`;
          if ((entry.level ?? 0) >= 40) counts.set(key, (counts.get(key) ?? 0) + 1);
        } catch {
          // not a log line
        }
      }
    }
    return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([msg, n]) => `${n}× ${msg}`);
  }

  get hubPids(): number[] {
    return this.hubs.map((h) => h.child.pid!);
  }
  get workerPids(): number[] {
    return this.workers.map((w) => w.child.pid!);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.workers, ...this.hubs].map((p) => p.stop()));
    this.workers = [];
    this.hubs = [];
  }
}
