/**
 * Job lifecycle states. `completed`, `failed`, `cancelled` and `lost` are terminal. `lost` is never
 * stored: watchers are told it when the job's record is gone from Redis (Redis lost its data, see
 * docs/scaling.md on persistence), with the reason in `error`; its `seq` is
 * `Number.MAX_SAFE_INTEGER`, so it supersedes anything seen before.
 */
export type JobState = 'queued' | 'active' | 'completed' | 'failed' | 'cancelled' | 'lost';
export type TerminalJobState = 'completed' | 'failed' | 'cancelled' | 'lost';

/**
 * The types of one job, as clients see them: its name, the data `enqueue` takes, its stage names
 * and its result. A job definition (`defineJob` in `@switchboard/jobs`) carries them in a type-only
 * field, so a client types itself by a job set with `import type` and loads none of its code.
 */
export interface JobShape {
  readonly name: string;
  readonly data: unknown;
  readonly stage: string;
  readonly result: unknown;
}

/** Any job whatever its set: what code that serves every job set (hub nodes, the store) sees. */
export type AnyJob = JobShape;

/** What a job definition exposes to the type level: its name, and its shape in a field that never exists at run time. */
export interface HasJobShape<J extends JobShape = JobShape> {
  readonly name: J['name'];
  /** Type-only: never set at run time. */
  readonly '~job'?: J;
}

/** A job set (an array of job definitions) as the type level sees it. */
export type JobSetShape = readonly HasJobShape[];

/** The union of the job shapes of a job set: `JobsOf<typeof jobs>`. */
export type JobsOf<S extends JobSetShape> = NonNullable<S[number]['~job']>;
/** The job names of a job set. */
export type JobNameOf<S extends JobSetShape> = JobsOf<S>['name'];
/** The shape of job `N` within the union of shapes `J` (`J` itself when it names no job: any job, unknown data). */
export type JobNamed<J extends JobShape, N extends string> = string extends J['name'] ? J : Extract<J, { readonly name: N }>;

/** The fields every update has, whatever its job. */
interface JobUpdateBase {
  readonly jobId: string;
  readonly seq: number;
  readonly state: JobState;
  /** 0-100. */
  readonly progress: number;
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

/** An update of one job of shape `J` (not distributed). */
export interface JobUpdateOf<J extends JobShape> extends JobUpdateBase {
  readonly name: J['name'];
  readonly stage?: J['stage'];
  readonly result?: J['result'];
}

/**
 * One state change or progress report of a job, as sent to watchers and returned as a snapshot.
 * `seq` increases by one with every update of the job; a client keeps the highest it has seen and
 * drops anything not above it (stale or duplicate). No update follows a terminal one.
 *
 * Given a union of job shapes (`JobUpdate<JobsOf<typeof jobs>>`) it is a union discriminated by
 * `name`: `if (u.name === 'report') u.result` has the report job's result type.
 */
export type JobUpdate<J extends JobShape = AnyJob> = J extends JobShape ? JobUpdateOf<J> : never;

/** A job's latest update (what `watch` and `GET /api/jobs/:id` return). */
export type JobSnapshot<J extends JobShape = AnyJob> = JobUpdate<J>;

/** Client methods of the jobs hub (`/hubs/jobs`). */
export interface JobsClient<J extends JobShape = AnyJob> {
  jobUpdated(update: JobUpdate<J>): void;
}

/** Server methods of the jobs hub, as a client calls them. */
export interface JobsServer<J extends JobShape = AnyJob> {
  enqueue<N extends J['name']>(name: N, data: JobNamed<J, N>['data']): Promise<{ jobId: string }>;
  /** Joins the job's group and returns its snapshot (so a late or reconnecting watcher misses no final state). */
  watch(jobId: string): Promise<JobSnapshot<J>>;
  unwatch(jobId: string): Promise<void>;
  /** True when the job ended cancelled by this call; false when it had already ended. */
  cancel(jobId: string): Promise<boolean>;
}
