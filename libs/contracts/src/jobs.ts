/**
 * Job lifecycle states. `delayed` is queued with a due time (`dueAt`, enqueued with `delayMs`).
 * `completed`, `failed`, `cancelled` and `lost` are terminal (a failed job can be retried: it goes
 * back to `queued` with a higher `seq` and the next attempt). `lost` is never
 * stored: watchers are told it when the job's record is gone from Redis (Redis lost its data, see
 * docs/scaling.md on persistence), with the reason in `error`; its `seq` is
 * `Number.MAX_SAFE_INTEGER`, so it supersedes anything seen before.
 */
export type JobState = 'queued' | 'delayed' | 'active' | 'completed' | 'failed' | 'cancelled' | 'lost';
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
  /** A delayed job's due time (ms since the epoch). */
  readonly dueAt?: number;
  /** The enqueue priority (1 = highest), when one was given. */
  readonly priority?: number;
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

/** Options of `enqueue` (hub, REST `options`, CLI flags). */
export interface EnqueueOptions {
  /** Run no earlier than this many ms from now: the job is `delayed` (with `dueAt`) until then. 0..30 days. */
  readonly delayMs?: number;
  /** 1 (highest) .. 2,097,152; jobs without a priority run before prioritized ones, as in BullMQ. */
  readonly priority?: number;
  /** The same key within 24 h returns the first job's id and enqueues nothing (1-200 printable characters). */
  readonly idempotencyKey?: string;
  /**
   * Also watch the job, in the same round trip: the caller joins the job's group before the job
   * exists (so it misses no update), and the answer carries its snapshot. Hub only.
   */
  readonly watch?: boolean;
}

/** What `enqueue` answers. */
export interface EnqueueResult {
  readonly jobId: string;
  /** True when `idempotencyKey` matched an earlier enqueue: `jobId` is that job's, and nothing was enqueued. */
  readonly duplicate?: boolean;
  /** With `watch`: the job's snapshot when it was enqueued (later updates come as `jobUpdated`). */
  readonly snapshot?: JobSnapshot;
}

/** One job type of the hub's job set, as `jobTypes()` and `GET /api/job-types` describe it. */
export interface JobTypeInfo {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly stages: readonly string[];
  readonly attempts: number;
  /** The data's JSON Schema (draft 2020-12, as zod 4's `z.toJSONSchema` writes it, for the input side). */
  readonly schema: Readonly<Record<string, unknown>>;
}

/** The states the job list pages by (`lost` is never stored, so never listed). */
export type ListedJobState = Exclude<JobState, 'lost'>;
export const LISTED_JOB_STATES: readonly ListedJobState[] = ['queued', 'delayed', 'active', 'completed', 'failed', 'cancelled'];

/** A page query of `list` / `GET /api/jobs`. Newest first. */
export interface JobListQuery {
  /** One state (`waiting` is accepted for `queued`); unset: every state. */
  readonly state?: ListedJobState | 'waiting';
  /** Only jobs of this job name. */
  readonly name?: string;
  /** 1..200. @defaultValue 50 */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** One page of the job list, with the counts per state the caller may see (for the same `name` filter). */
export interface JobListPage<J extends JobShape = AnyJob> {
  readonly jobs: readonly JobSnapshot<J>[];
  readonly counts: Readonly<Record<ListedJobState, number>>;
  /** Present when there are more jobs after this page. */
  readonly nextCursor?: string;
}

/** Pushed to `watchList` subscribers when jobs they may see changed state: at most about 10 per second. */
export interface JobListChange {
  /** Counts per state for everything the subscriber may see (no name filter). */
  readonly counts: Readonly<Record<ListedJobState, number>>;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** Client methods of the jobs hub (`/hubs/jobs`). */
export interface JobsClient<J extends JobShape = AnyJob> {
  jobUpdated(update: JobUpdate<J>): void;
  /** Jobs changed state (coalesced, about 10 per second at most): re-read the page you show. */
  jobListChanged(change: JobListChange): void;
}

/** Server methods of the jobs hub, as a client calls them. */
export interface JobsServer<J extends JobShape = AnyJob> {
  enqueue<N extends J['name']>(name: N, data: JobNamed<J, N>['data'], options?: EnqueueOptions): Promise<EnqueueResult>;
  /** Joins the job's group and returns its snapshot (so a late or reconnecting watcher misses no final state). */
  watch(jobId: string): Promise<JobSnapshot<J>>;
  unwatch(jobId: string): Promise<void>;
  /** True when the job ended cancelled by this call; false when it had already ended. */
  cancel(jobId: string): Promise<boolean>;
  /** The hub's job set: names, stages, attempts and the data's JSON Schema. */
  jobTypes(): Promise<JobTypeInfo[]>;
  /** A page of jobs, newest first: every job for admins (JOBS_ADMIN_ROLE), your own for users. */
  list(query?: JobListQuery): Promise<JobListPage<J>>;
  /** Subscribes this connection to `jobListChanged` (until `unwatchList` or disconnect); returns the counts now. */
  watchList(): Promise<JobListChange>;
  unwatchList(): Promise<void>;
  /** Runs a failed job again (its watchers see it `queued`, then a new attempt). SB_JOB_STATE_CONFLICT unless it failed. */
  retry(jobId: string): Promise<{ jobId: string }>;
  /** Deletes a finished job (completed, failed or cancelled) and its record. SB_JOB_STATE_CONFLICT while it is not finished. */
  remove(jobId: string): Promise<boolean>;
}
