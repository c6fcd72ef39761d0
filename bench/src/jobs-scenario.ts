import { startRedis } from '@switchboard/test/support/redis';
import { Histogram } from './histogram.js';
import { CostWindow, JobsCluster, PROGRESS_STOP_CHANNEL, RedisStats, type CpuCost, type RedisCost } from './jobs-cluster.js';
import { Role, redisPid as pidOfRedis, sleep } from './proc.js';

/**
 * The jobs pipeline against raw BullMQ, on one private Redis (bench/README.md, "Jobs"):
 * 1. Raw BullMQ, the limit: `workers` processes × `concurrency`, no-op processor, one producer
 *    adding in bulk (closed loop), completions counted by the workers.
 * 2. Switchboard end to end: load clients enqueue with `{ watch: true }` through the jobs hub of
 *    `hubs` nodes; a job counts when its terminal update reaches its watcher. `noop` and `thread`
 *    jobs at the maximum (closed loop), then `noop` at half of its maximum (open loop) for latency.
 * 3. Progress: `progress.jobs` jobs at once, each watched twice, reporting progress.
 * 4. Scaling: the maximum with other worker and hub-node counts.
 * Every measured window also reads CPU per process group and Redis's counters.
 */
export interface JobsScenarioOptions {
  warmupMs: number;
  measureMs: number;
  /** Added to the warm-up of the first Switchboard measurement (hub nodes and workers are fresh). */
  firstWarmupMs: number;
  /** Longest wait for every job to end after a phase (a job still running after it is reported stuck). */
  drainMs: number;
  workers: number;
  concurrency: number;
  /** piscina threads per worker process (for `thread`). */
  poolSize: number;
  hubs: number;
  clientProcesses: number;
  connectionsPerProcess: number;
  /** Switchboard: jobs enqueued and not yet terminal, at most (closed loop), over all client processes. */
  window: number;
  /** Raw BullMQ: jobs added and not completed, at most; and the largest `addBulk`. */
  bullWindow: number;
  bullBatch: number;
  /** `jobs` at once; the window (`warmupMs`, then `measureMs`) starts once all run. */
  /** `watchers`: connections watching each job (its enqueuer and watchers - 1 more), so the offered rate is jobs × 10/s × watchers. */
  progress: { jobs: number; watchers: number; warmupMs: number; measureMs: number };
  /** Extra measurements of `noop` at the maximum (and raw BullMQ with the same worker counts). */
  scaling: { workers: number[]; hubs: number[] };
  /** Extra node options for hub nodes and workers (`--profile`). */
  nodeOptions?: string;
}

export interface Checks {
  /** Jobs whose enqueue was answered with an error, or connections the hub closed. */
  errors: number;
  firstError: string;
  /** Watchers that had no terminal update when the drain ended. */
  missing: number;
  /** Watchers that got a second terminal update (another seq), or any update after the terminal one. */
  duplicates: number;
  /** Live updates whose `seq` was not above one seen (repeats a client drops by seq, e.g. a resync's snapshot; not an error). */
  stale: number;
  /** Terminal updates that reached their watcher only in a snapshot (the watcher joined before the job existed, so it should come live too). */
  snapshotOnly: number;
  /** Left in BullMQ after the drain: waiting, and active (stuck). */
  leftWaiting: number;
  leftActive: number;
}

export interface Measured {
  jobsPerSecond: number;
  jobs: number;
  seconds: number;
  cpu: CpuCost;
  redis: RedisCost;
}

export interface PipelineMeasured extends Measured {
  checks: Checks;
  /** Per-job latency while at the maximum (queueing included), enqueue → terminal at the watcher. */
  terminalP50Ms: number;
  terminalP99Ms: number;
}

export interface LatencyMeasured {
  targetPerSecond: number;
  achievedPerSecond: number;
  activeP50Ms: number;
  activeP99Ms: number;
  terminalP50Ms: number;
  terminalP99Ms: number;
  /** The enqueue invocation's answer (with the snapshot). */
  answerP50Ms: number;
  answerP99Ms: number;
  /**
   * Where enqueue → active goes, p50 / p99 ms (wall clocks of client, hub and worker, ms
   * resolution): the send to the hub's record (`createdAt`), the record to the worker's start
   * (`startedAt`: BullMQ's hand-over), the start to the watcher (write, publish, hub, socket).
   */
  segments?: { recordP50Ms: number; recordP99Ms: number; pickupP50Ms: number; pickupP99Ms: number; deliveryP50Ms: number; deliveryP99Ms: number };
  checks: Checks;
}

export interface ProgressMeasured {
  jobs: number;
  /** The window measured. */
  seconds: number;
  watchersPerJob: number;
  updatesPerSecond: number;
  perWatcherPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpu: CpuCost;
  checks: Checks;
}

export interface JobsScenarioResult {
  raw: Measured & { leftWaiting: number; leftActive: number; lost: number };
  noop: PipelineMeasured;
  thread: PipelineMeasured;
  latency: LatencyMeasured;
  progress: ProgressMeasured;
  /** noop jobs/s (and raw BullMQ's) by worker processes (hubs as configured), and by hub nodes (workers as configured). */
  scaling: { workers: { n: number; jobsPerSecond: number; rawJobsPerSecond: number }[]; hubs: { n: number; jobsPerSecond: number }[] };
  /** Every watcher saw exactly one terminal update of each of its jobs, and nothing was left in the queue. */
  terminalExactlyOnce: boolean;
  /** What hub nodes and workers logged at warn or error (`count× message`). */
  warnings: string[];
}

const RAW_QUEUE = 'rawbench';
const RAW_PREFIX = 'rawbull';

type StopResult = {
  sent: number;
  finished: number;
  errors: number;
  firstError: string;
  missing: number;
  duplicates: number;
  stale: number;
  primaryWithoutLive: number;
  unexpectedCloses: number;
  progressUpdates: number;
  histograms: Record<'active' | 'terminal' | 'answer' | 'progress' | 'record' | 'pickup' | 'delivery', [number, number][]>;
};

function segmentsOf(results: StopResult[]): LatencyMeasured['segments'] {
  const [record, pickup, delivery] = (['record', 'pickup', 'delivery'] as const).map((k) => merge(results, k));
  return {
    recordP50Ms: record!.percentile(50),
    recordP99Ms: record!.percentile(99),
    pickupP50Ms: pickup!.percentile(50),
    pickupP99Ms: pickup!.percentile(99),
    deliveryP50Ms: delivery!.percentile(50),
    deliveryP99Ms: delivery!.percentile(99),
  };
}

function merge(results: StopResult[], key: keyof StopResult['histograms']): Histogram {
  const h = new Histogram();
  for (const r of results) h.merge(Histogram.fromSparse(r.histograms[key]).counts);
  return h;
}

function checksOf(results: StopResult[], left: { wait: number; active: number }): Checks {
  const sum = (k: 'errors' | 'missing' | 'duplicates' | 'stale' | 'primaryWithoutLive' | 'unexpectedCloses') => results.reduce((s, r) => s + r[k], 0);
  return {
    errors: sum('errors') + sum('unexpectedCloses'),
    firstError: results.map((r) => r.firstError).find(Boolean) ?? '',
    missing: sum('missing'),
    duplicates: sum('duplicates'),
    stale: sum('stale'),
    snapshotOnly: sum('primaryWithoutLive'),
    leftWaiting: left.wait,
    leftActive: left.active,
  };
}

export async function runJobsScenario(o: JobsScenarioOptions, log: (s: string) => void = () => {}): Promise<JobsScenarioResult> {
  const redis = await startRedis();
  const stats = new RedisStats(redis.url);
  const redisPid = await pidOfRedis(redis.port);
  const cluster = new JobsCluster(redis.url, o.nodeOptions);
  const clients: Role[] = [];
  const sumOf = async (op: string, args: Record<string, unknown> = {}) => (await Promise.all(clients.map((c) => c.request<Record<string, number>>(op, args)))).reduce((s, r) => s + r['finished']!, 0);

  /** Raw BullMQ with `n` worker processes: the maximum, closed loop. */
  async function raw(n: number): Promise<JobsScenarioResult['raw']> {
    const env = { REDIS_URL: redis.url, QUEUE: RAW_QUEUE, BULL_PREFIX: RAW_PREFIX, CONCURRENCY: String(o.concurrency) };
    const workers = Array.from({ length: n }, () => Role.fork('bull-worker', env));
    const producer = Role.fork('bull-producer', env);
    const counts = new Array<number>(n).fill(0);
    const total = () => counts.reduce((s, c) => s + c, 0);
    workers.forEach((w, i) =>
      w.onEvent((e) => {
        if (e.ev !== 'count') return;
        counts[i] = e['n'] as number;
        producer.event({ ev: 'delivered', n: total() });
      }),
    );
    try {
      await Promise.all(workers.map((w) => w.request('ready')));
      const completed = async () => (await Promise.all(workers.map((w) => w.request<{ completed: number }>('count')))).reduce((s, c) => s + c.completed, 0);
      await producer.request('start', { window: o.bullWindow, batch: o.bullBatch });
      await sleep(o.warmupMs);
      const c0 = await completed();
      const window = await CostWindow.open({ workers: workers.map((w) => w.pid), producer: [producer.pid], redis: [redisPid] }, stats);
      await sleep(o.measureMs);
      const c1 = await completed();
      const cost = await window.close(c1 - c0);
      const { added } = await producer.request<{ added: number }>('stop');
      const deadline = performance.now() + o.drainMs;
      while ((await completed()) < added && performance.now() < deadline) await sleep(20);
      const left = await stats.leftInQueue(5000, RAW_QUEUE, RAW_PREFIX);
      return { jobsPerSecond: (c1 - c0) / cost.seconds, jobs: c1 - c0, ...cost, leftWaiting: left.wait, leftActive: left.active, lost: added - (await completed()) };
    } finally {
      // Drained already: nothing to hand back, so no graceful close (BullMQ's can wait out its blocking read).
      await producer.request('close', {}, 5000).catch(() => {});
      await Promise.allSettled([...workers, producer].map((r) => r.stop()));
    }
  }

  /** Fresh connections for each phase: a watcher stays in every job's group until it disconnects. */
  async function connect(hubs: number): Promise<void> {
    const urls = cluster.hubs.slice(0, hubs).map((h) => h.url);
    await Promise.all(
      clients.map((c, p) =>
        c.request('connect', { targets: Array.from({ length: o.connectionsPerProcess }, (_, i) => ({ url: urls[(i + p) % urls.length]!, lane: (i + p) % urls.length })) }),
      ),
    );
  }
  const groups = () => ({ hubs: cluster.hubPids, workers: cluster.workerPids, redis: [redisPid], clients: clients.map((c) => c.pid) });

  /**
   * The warm-up starts once jobs come through: the first `thread` job starts the worker's piscina
   * thread (100s of ms on a busy machine), which a short warm-up (smoke mode) would measure instead.
   */
  async function firstJobsDone(): Promise<void> {
    const deadline = performance.now() + 20_000;
    while ((await sumOf('mark', { record: false })) < clients.length && performance.now() < deadline) await sleep(10);
  }

  async function finish(): Promise<StopResult[]> {
    const results = await Promise.all(clients.map((c) => c.request<StopResult>('stop', { drainMs: o.drainMs }, o.drainMs + 30_000)));
    await Promise.all(clients.map((c) => c.request('close')));
    return results;
  }

  /** Switchboard at the maximum: closed loop of `window` jobs in flight (`warmupMs` longer warm-up before the first). */
  async function pipelineMax(job: 'noop' | 'thread', hubs = o.hubs, warmupMs = o.warmupMs): Promise<PipelineMeasured> {
    await connect(hubs);
    const perProcess = Math.ceil(o.window / clients.length);
    await Promise.all(clients.map((c) => c.request('max', { job, data: {}, window: perProcess, perConnection: Math.max(2, Math.ceil((2 * perProcess) / o.connectionsPerProcess)) })));
    await firstJobsDone();
    await sleep(warmupMs);
    const f0 = await sumOf('mark', { record: true });
    const window = await CostWindow.open(groups(), stats);
    await sleep(o.measureMs);
    const f1 = await sumOf('mark', { record: false });
    const cost = await window.close(f1 - f0);
    const results = await finish();
    const terminal = merge(results, 'terminal');
    return { jobsPerSecond: (f1 - f0) / cost.seconds, jobs: f1 - f0, ...cost, terminalP50Ms: terminal.percentile(50), terminalP99Ms: terminal.percentile(99), checks: checksOf(results, await stats.leftInQueue(o.drainMs)) };
  }

  /** Switchboard at a fixed rate (open loop): latency. */
  async function pipelineRate(perSecond: number): Promise<LatencyMeasured> {
    await connect(o.hubs);
    await Promise.all(clients.map((c) => c.request('rate', { job: 'noop', data: {}, perSecond: perSecond / clients.length })));
    await firstJobsDone();
    await sleep(o.warmupMs);
    const f0 = await sumOf('mark', { record: true });
    const t0 = performance.now();
    await sleep(o.measureMs);
    const f1 = await sumOf('mark', { record: false });
    const seconds = (performance.now() - t0) / 1000;
    const results = await finish();
    const active = merge(results, 'active');
    const terminal = merge(results, 'terminal');
    const answer = merge(results, 'answer');
    return {
      targetPerSecond: perSecond,
      achievedPerSecond: (f1 - f0) / seconds,
      activeP50Ms: active.percentile(50),
      activeP99Ms: active.percentile(99),
      terminalP50Ms: terminal.percentile(50),
      terminalP99Ms: terminal.percentile(99),
      answerP50Ms: answer.percentile(50),
      answerP99Ms: answer.percentile(99),
      segments: segmentsOf(results),
      checks: checksOf(results, await stats.leftInQueue(o.drainMs)),
    };
  }

  /** `progress.jobs` jobs at once, each watched by `progress.watchers` connections (alternating hub nodes). */
  async function progress(): Promise<ProgressMeasured> {
    const { jobs, watchers, warmupMs, measureMs } = o.progress;
    // Every job running at once: enough concurrency in each worker for its share of them (restart
    // the workers only when the current ones cannot run them all).
    if (cluster.workers.length !== o.workers || Math.ceil(jobs / o.workers) > o.concurrency) await cluster.setWorkers(o.workers, Math.ceil(jobs / o.workers) + 10, o.poolSize);
    await connect(o.hubs);
    // The jobs run until told to stop (bench-jobs.mjs), so the window starts once every one of
    // them runs and every watch is answered, however long the burst took on this machine.
    const until = Date.now() + 120_000 + o.drainMs;
    const started = await Promise.all(clients.map((c, i) => c.request<{ enqueued: number }>('progress', { jobs: Math.floor(jobs / clients.length) + (i < jobs % clients.length ? 1 : 0), until, watchers })));
    const enqueued = started.reduce((s, r) => s + r.enqueued, 0);
    const deadline = performance.now() + 60_000;
    for (;;) {
      const m = await Promise.all(clients.map((c) => c.request<{ running: number; outstanding: number }>('mark', { running: true })));
      if ((m.reduce((s, r) => s + r.running, 0) >= enqueued && m.every((r) => r.outstanding === 0)) || performance.now() > deadline) break;
      await sleep(50);
    }
    await sleep(warmupMs);
    const count = async (record: boolean) => (await Promise.all(clients.map((c) => c.request<{ progressUpdates: number }>('mark', { record })))).reduce((s, r) => s + r.progressUpdates, 0);
    const u0 = await count(true);
    const window = await CostWindow.open(groups(), stats);
    await sleep(measureMs);
    const u1 = await count(false);
    const cost = await window.close(u1 - u0);
    await stats.publish(PROGRESS_STOP_CHANNEL, 'stop');
    const results = await finish();
    const h = merge(results, 'progress');
    const updatesPerSecond = (u1 - u0) / cost.seconds;
    return { jobs: enqueued, seconds: cost.seconds, watchersPerJob: watchers, updatesPerSecond, perWatcherPerSecond: updatesPerSecond / (watchers * enqueued), p50Ms: h.percentile(50), p99Ms: h.percentile(99), cpu: cost.cpu, checks: checksOf(results, await stats.leftInQueue(o.drainMs)) };
  }

  try {
    // Switchboard's processes start first and idle through the raw BullMQ phases (heartbeats and a
    // blocking read on another queue: next to nothing), so starting them does not add to the run.
    clients.push(...Array.from({ length: o.clientProcesses }, () => Role.fork('jobs-client')));
    await Promise.all([cluster.startHubs(o.hubs), cluster.setWorkers(o.workers, o.concurrency, o.poolSize)]);
    const rawByWorkers = new Map<number, JobsScenarioResult['raw']>();
    for (const n of [o.workers, ...o.scaling.workers.filter((n) => n !== o.workers)]) {
      log(`jobs: raw BullMQ, ${n} worker process(es)`);
      rawByWorkers.set(n, await raw(n));
    }
    log('jobs: Switchboard noop at the maximum');
    // Fresh hub nodes and workers: the first phase also warms them up (in quick runs a first
    // measurement after the usual warm-up came out at a half to a third of the next ones).
    const noop = await pipelineMax('noop', o.hubs, o.warmupMs + o.firstWarmupMs);
    log('jobs: Switchboard thread at the maximum');
    const thread = await pipelineMax('thread');
    log(`jobs: Switchboard noop at half its maximum (${Math.round(noop.jobsPerSecond / 2)}/s)`);
    const latency = await pipelineRate(Math.max(1, noop.jobsPerSecond / 2));
    const hubs = [{ n: o.hubs, jobsPerSecond: noop.jobsPerSecond }];
    for (const n of o.scaling.hubs.filter((n) => n !== o.hubs && n <= o.hubs)) {
      log(`jobs: Switchboard noop, ${n} hub node(s)`);
      hubs.push({ n, jobsPerSecond: (await pipelineMax('noop', n)).jobsPerSecond });
    }
    const workers = [{ n: o.workers, jobsPerSecond: noop.jobsPerSecond, rawJobsPerSecond: rawByWorkers.get(o.workers)!.jobsPerSecond }];
    for (const n of o.scaling.workers.filter((n) => n !== o.workers)) {
      log(`jobs: Switchboard noop, ${n} worker process(es)`);
      await cluster.setWorkers(n, o.concurrency, o.poolSize);
      workers.push({ n, jobsPerSecond: (await pipelineMax('noop')).jobsPerSecond, rawJobsPerSecond: rawByWorkers.get(n)!.jobsPerSecond });
    }
    log(`jobs: progress, ${o.progress.jobs} jobs at once`);
    const prog = await progress();
    const all = [noop.checks, thread.checks, latency.checks, prog.checks];
    const raw0 = rawByWorkers.get(o.workers)!;
    return {
      raw: raw0,
      noop,
      thread,
      latency,
      progress: prog,
      scaling: { workers: workers.sort((a, b) => a.n - b.n), hubs: hubs.sort((a, b) => a.n - b.n) },
      terminalExactlyOnce: all.every((c) => c.missing === 0 && c.duplicates === 0 && c.leftActive === 0) && raw0.leftActive === 0,
      warnings: cluster.warnings(),
    };
  } finally {
    await Promise.allSettled(clients.map((c) => c.stop()));
    await cluster.stop();
    await stats.close();
    await redis.stop();
  }
}
