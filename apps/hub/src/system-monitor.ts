import type { DelayStats, HubNodeStats, QueueStats, SystemStats, WorkerStats } from '@switchboard/contracts';
import type { ConnectionStats, Logger } from '@switchboard/hub-server';
import type { SystemRegistry } from '@switchboard/jobs';

const EMPTY_QUEUE: QueueStats = { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 };

export interface SystemMonitorOptions {
  readonly nodeId: string;
  readonly startedAt: number;
  /** Heartbeat and push period. @defaultValue 1000 */
  readonly intervalMs?: number;
  /** Leader lease; several missed renewals before another node takes over. @defaultValue 3 × intervalMs */
  readonly leaseMs?: number;
  /** This node's open connections now. */
  connections(): ConnectionStats;
  /** The delays of sends that arrived over the backplane since the previous call (once per heartbeat); absent without Redis. */
  backplaneDelay?(): DelayStats;
  /** The shared view in Redis; undefined for a node without Redis (it reports itself alone). */
  readonly registry?: SystemRegistry;
  /** BullMQ queue counts; required with `registry`. */
  queueCounts?(): Promise<QueueStats>;
  /** Sends the stats to every client of the system hub, on every node (`clients.all.systemStats`). */
  push(stats: SystemStats): Promise<void>;
  readonly logger: Logger;
  /** This node's job set names: a worker that reports another set is logged (once per worker) as a misconfiguration. */
  readonly jobNames?: readonly string[];
}

/**
 * The live system view of one hub node. Every `intervalMs` it writes this node's heartbeat to
 * Redis and takes or renews the leader lease; the one leader reads every heartbeat, the queue
 * counts and the finished-jobs rate, and pushes the resulting SystemStats to all system-hub
 * clients through the backplane (so each client gets one push per period, whichever node it is
 * on). If the leader dies, another node takes over when the lease ends (`leaseMs`).
 *
 * Without Redis the node pushes its own view (itself, no workers, an empty queue). While Redis is
 * unreachable nothing is pushed (a partial view would show workers and queues as gone) and
 * `stats()` rejects; pushes resume by themselves when Redis returns.
 */
export class SystemMonitor {
  private readonly intervalMs: number;
  private readonly leaseMs: number;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private leading = false;
  private failing = false;
  private stopped = false;
  private cached: { at: number; stats: Promise<SystemStats> } | undefined;
  /** The last heartbeat period's delays (taken once per tick, shown until the next). */
  private delay: DelayStats | undefined;
  /** Workers already reported for running another job set than this node's. */
  private readonly mismatched = new Set<string>();

  constructor(private readonly options: SystemMonitorOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.leaseMs = options.leaseMs ?? this.intervalMs * 3;
  }

  /** Whether this node pushes the stats now (always true without Redis). */
  get isLeader(): boolean {
    return this.options.registry ? this.leading : true;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      // One tick at a time: a slow Redis skips ticks instead of piling them up.
      this.ticking ??= this.tick().finally(() => (this.ticking = undefined));
    }, this.intervalMs);
    this.ticking = this.tick().finally(() => (this.ticking = undefined));
  }

  /** Stops the ticks, gives up the lease and removes this node's heartbeat (best effort). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    const registry = this.options.registry;
    if (!registry) return;
    await Promise.allSettled([registry.resign(this.options.nodeId), registry.removeHubNode(this.options.nodeId)]);
  }

  /** SystemStats now, for `stats()` on the system hub (computed at most once per 250 ms). */
  stats(): Promise<SystemStats> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > 250) {
      const stats = this.compute();
      stats.catch(() => (this.cached = undefined));
      this.cached = { at: now, stats };
    }
    return this.cached.stats;
  }

  /** This node's heartbeat. */
  self(now = Date.now()): HubNodeStats {
    const c = this.options.connections();
    const node = { nodeId: this.options.nodeId, pid: process.pid, startedAt: this.options.startedAt, connections: c.connections, byTransport: c.byTransport, byProtocol: c.byProtocol, seenAt: now };
    return this.delay ? { ...node, backplaneDelay: this.delay } : node;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const { registry, logger } = this.options;
    if (this.options.backplaneDelay) this.delay = this.options.backplaneDelay();
    try {
      if (registry) {
        await registry.reportHubNode(this.self());
        const leading = await registry.lead(this.options.nodeId, this.leaseMs);
        if (leading !== this.leading) logger.info({}, leading ? 'system stats: this node now pushes systemStats' : 'system stats: another node pushes systemStats');
        this.leading = leading;
      }
      if (this.failing) logger.info({}, 'system stats: Redis reachable again; heartbeats resumed');
      this.failing = false;
    } catch (err) {
      if (!this.failing) logger.warn({ error: (err as Error).message }, 'system stats: heartbeat failed (Redis unreachable?); pushes pause until it returns');
      this.failing = true;
      this.leading = false;
      return;
    }
    if (!this.isLeader || this.stopped) return;
    let stats: SystemStats;
    try {
      stats = await this.compute();
    } catch (err) {
      logger.warn({ error: (err as Error).message }, 'system stats: reading the system view failed');
      return;
    }
    this.cached = { at: Date.now(), stats: Promise.resolve(stats) };
    // Reaches this node's clients even if the publish to other nodes fails (local first).
    await this.options.push(stats).catch((err: Error) => logger.debug({ error: err.message }, 'system stats: push did not reach other nodes'));
  }

  /**
   * Hub nodes and workers of one deployment must load the same job set: a job a worker lacks fails
   * there (SB_JOB_NOT_IN_WORKER_SET), and a job only workers know cannot be enqueued. Say so once
   * per worker, naming the difference.
   */
  private checkJobSets(workers: readonly WorkerStats[]): void {
    const mine = this.options.jobNames;
    if (!mine) return;
    for (const w of workers) {
      if (!w.jobs || this.mismatched.has(w.workerId)) continue;
      const missing = mine.filter((n) => !w.jobs!.includes(n));
      const extra = w.jobs.filter((n) => !mine.includes(n));
      if (!missing.length && !extra.length) continue;
      this.mismatched.add(w.workerId);
      this.options.logger.warn(
        { workerId: w.workerId, missingInWorker: missing, onlyInWorker: extra },
        `worker ${w.workerId} runs another job set than this hub node: jobs it lacks (${missing.join(', ') || 'none'}) fail there with SB_JOB_NOT_IN_WORKER_SET. Give hub nodes and workers the same JOBS_MODULE.`,
      );
    }
  }

  private async compute(): Promise<SystemStats> {
    const { registry } = this.options;
    const now = Date.now();
    const self = this.self(now);
    if (!registry) return { at: now, hubNodes: [self], workers: [], queue: EMPTY_QUEUE, jobsPerSecond: 0 };
    const [nodes, workers, queue, jobsPerSecond] = await Promise.all([
      registry.hubNodes(),
      registry.workers(),
      this.options.queueCounts ? this.options.queueCounts() : Promise.resolve(EMPTY_QUEUE),
      registry.jobsPerSecond(),
    ]);
    this.checkJobSets(workers);
    // This node's own entry is taken live rather than from its last heartbeat.
    const hubNodes = [...nodes.filter((n) => n.nodeId !== self.nodeId), ...(this.stopped ? [] : [self])].sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
    return { at: now, hubNodes, workers, queue, jobsPerSecond };
  }
}
