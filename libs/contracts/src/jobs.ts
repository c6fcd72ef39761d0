/** Job lifecycle states. `completed`, `failed` and `cancelled` are terminal. */
export type JobState = 'queued' | 'active' | 'completed' | 'failed' | 'cancelled';
export type TerminalJobState = 'completed' | 'failed' | 'cancelled';

/** Data, progress stage names and result of each job type. */
export interface JobTypes {
  /** Iterated SHA-256 in a piscina thread; result: the final hex digest. */
  hash: { data: { rounds: number }; stage: 'hashing'; result: string };
  /**
   * A multi-stage job: `fetch` (I/O wait), `transform` (CPU, in a thread), `publish` (I/O wait).
   * `failAtStage` makes it throw in that stage for the first `failAttempts` attempts (all if unset),
   * to show retries and failures.
   */
  pipeline: {
    data: { items: number; delayMs?: number; failAtStage?: 'fetch' | 'transform' | 'publish'; failAttempts?: number };
    stage: 'fetch' | 'transform' | 'publish';
    result: { items: number; checksum: string };
  };
}
export type JobName = keyof JobTypes;

/**
 * One state change or progress report of a job, as sent to watchers and returned as a snapshot.
 * `seq` increases by one with every update of the job; a client keeps the highest it has seen and
 * drops anything not above it (stale or duplicate). No update follows a terminal one.
 */
export interface JobUpdate<N extends JobName = JobName> {
  readonly jobId: string;
  readonly name: N;
  readonly seq: number;
  readonly state: JobState;
  /** 0-100. */
  readonly progress: number;
  readonly stage?: JobTypes[N]['stage'];
  readonly result?: JobTypes[N]['result'];
  readonly error?: string;
  /** 1 for the first run, 2 for the first retry, ... */
  readonly attempt: number;
  /** Who enqueued it, when authentication is on. */
  readonly owner?: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
}

/** A job's latest update (what `watch` and `GET /api/jobs/:id` return). */
export type JobSnapshot<N extends JobName = JobName> = JobUpdate<N>;

/** Client methods of the jobs hub (`/hubs/jobs`). */
export interface JobsClient {
  jobUpdated(update: JobUpdate): void;
}

/** Server methods of the jobs hub, as a client calls them. */
export interface JobsServer {
  enqueue<N extends JobName>(name: N, data: JobTypes[N]['data']): Promise<{ jobId: string }>;
  /** Joins the job's group and returns its snapshot (so a late or reconnecting watcher misses no final state). */
  watch(jobId: string): Promise<JobSnapshot>;
  unwatch(jobId: string): Promise<void>;
  /** True when the job ended cancelled by this call; false when it had already ended. */
  cancel(jobId: string): Promise<boolean>;
}

