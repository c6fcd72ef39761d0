/** One hub node as the system view shows it. */
export interface HubNodeStats {
  /** Stable for the process's life, e.g. `hub-<pid>-<random>`. */
  readonly nodeId: string;
  readonly pid: number;
  readonly startedAt: number;
  /** Open hub connections on this node, in total and by transport / protocol. */
  readonly connections: number;
  readonly byTransport: Readonly<Record<string, number>>;
  readonly byProtocol: Readonly<Record<string, number>>;
  /** When this node last reported (ms since the epoch); nodes silent for 5 s are dropped. */
  readonly seenAt: number;
  /** Sends that reached this node over the Redis backplane during its last heartbeat period; absent without Redis. */
  readonly backplaneDelay?: DelayStats;
}

/**
 * How long sends took from their publish (a worker's hub context, or another hub node) to their
 * arrival at one hub node, over one period (about a second). Wall clocks of two processes: across
 * machines the figures include their clock offset.
 */
export interface DelayStats {
  /** Sends that arrived in the period (their delays are the figures below; 0 = none arrived). */
  readonly sends: number;
  /** Median and 99th percentile, ms (0 when none arrived). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** One worker process. */
export interface WorkerStats {
  readonly workerId: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly concurrency: number;
  readonly poolSize: number;
  /** Jobs running in this process now. */
  readonly activeJobs: number;
  /** The names in this worker's job set (JOBS_MODULE); hub nodes warn when they differ from theirs. */
  readonly jobs?: readonly string[];
  readonly seenAt: number;
}

/** The queue as BullMQ counts it. */
export interface QueueStats {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly completed: number;
  readonly failed: number;
}

/** What the dashboard's system panel shows; pushed about once a second. */
export interface SystemStats {
  readonly at: number;
  readonly hubNodes: readonly HubNodeStats[];
  readonly workers: readonly WorkerStats[];
  readonly queue: QueueStats;
  /** Jobs that reached a terminal state per second, over the last 10 s. */
  readonly jobsPerSecond: number;
}

/** Who serves a connection: what `whoami` on the system hub returns. */
export interface ConnectionInfo {
  readonly nodeId: string;
  readonly pid: number;
  readonly connectionId: string;
  readonly transport: string;
  readonly protocol: string;
  readonly user?: string;
}

/** Client methods of the system hub (`/hubs/system`). */
export interface SystemClient {
  systemStats(stats: SystemStats): void;
}

/** Server methods of the system hub. */
export interface SystemServer {
  whoami(): Promise<ConnectionInfo>;
  /** The latest stats at once (then `systemStats` about every second). */
  stats(): Promise<SystemStats>;
}
