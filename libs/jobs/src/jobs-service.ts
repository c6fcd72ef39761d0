import { randomBytes } from 'node:crypto';
import type { JobNameOf, JobNamed, JobSetShape, JobSnapshot, JobsOf, JobUpdate } from '@switchboard/contracts';
import type { RedisTarget } from '@switchboard/backplane-redis';
import { SwitchboardError, isSwitchboardError } from '@switchboard/protocol';
import { Queue } from 'bullmq';
import { JobCatalog, type JobSet } from './job-set.js';
import { JOB_ID_PATTERN, JobKeys } from './keys.js';
import { JobStore, TERMINAL } from './job-store.js';
import { SILENT, type JobsLogger } from './outage-log.js';
import { quit, requestClient } from './redis-client.js';

export interface JobsServiceOptions<S extends JobSetShape = JobSetShape> {
  /** The job set this deployment runs (the same as the workers'): an array of defineJob results, or a loaded catalog. */
  jobs: S | JobCatalog;
  redis: RedisTarget;
  /** Key and channel prefix (REDIS_PREFIX). @defaultValue 'sb:' */
  prefix?: string;
  /** Delivers an update to the job's watchers (a hub endpoint or hub context group send). */
  publish: (update: JobUpdate) => Promise<void>;
  /** How long `cancel` waits for a running job to confirm it stopped. @defaultValue 5000 */
  cancelWaitMs?: number;
  /** Users with this role may watch, get and cancel every job, not only their own (JOBS_ADMIN_ROLE). @defaultValue 'admin' */
  adminRole?: string;
  /**
   * The most a request waits for Redis (JOBS_REDIS_TIMEOUT_MS): past it, or at once while Redis is
   * unreachable, it fails with SB_BACKPLANE_UNAVAILABLE. Nothing queues while Redis is down.
   * @defaultValue 2000
   */
  timeoutMs?: number;
  /** Where Redis outages are logged (once per outage). @defaultValue silent */
  logger?: JobsLogger;
}

/** Who asks: the authenticated user (a hub `ctx.user`, or the REST request's), or undefined when anonymous. */
export interface JobRequester {
  readonly id: string;
  readonly roles?: readonly string[] | undefined;
}

/**
 * Enqueue, read and cancel jobs: what hub nodes, the REST API and the CLI use. Workers run them
 * (see createJobsWorker). Every state a watcher can see is written through JobStore first.
 *
 * Ownership: a job enqueued by an authenticated user records it (`owner`); only that user or a
 * user with `adminRole` may get, watch or cancel it (SB_JOB_FORBIDDEN otherwise). The owner lives
 * in the job's Redis hash, so every hub node enforces it. A job enqueued anonymously has no owner
 * and is open to anyone who has its id (ids are 96 random bits).
 */
export class JobsService<S extends JobSetShape = JobSetShape> {
  readonly keys: JobKeys;
  /** The job set, validated: names, schemas, retry policies. */
  readonly catalog: JobCatalog<JobsOf<S>>;
  readonly store: JobStore;
  readonly queue: Queue;
  private readonly redis;
  private readonly owned: boolean;
  private readonly adminRole: string;
  private readonly timeoutMs: number;

  /** Typed by its job set: `new JobsService({ jobs, ... })` is a `JobsService<typeof jobs>`. */
  constructor(private readonly options: JobsServiceOptions<S>) {
    this.catalog = JobCatalog.of(options.jobs as unknown as JobSet | JobCatalog, 'jobs') as JobCatalog<JobsOf<S>>;
    this.adminRole = options.adminRole ?? 'admin';
    if (typeof this.adminRole !== 'string' || !this.adminRole) throw new SwitchboardError('SB_CONFIG_INVALID', `adminRole must be a non-empty role name, got ${JSON.stringify(options.adminRole)}.`);
    this.timeoutMs = options.timeoutMs ?? 2000;
    if (!Number.isSafeInteger(this.timeoutMs) || this.timeoutMs < 1) throw new SwitchboardError('SB_CONFIG_INVALID', `timeoutMs must be a positive integer (ms), got ${JSON.stringify(options.timeoutMs)}.`);
    this.keys = new JobKeys(options.prefix ?? 'sb:');
    const { client, owned } = requestClient(options.redis, this.timeoutMs);
    this.redis = client;
    this.owned = owned;
    this.store = new JobStore(client, this.keys);
    this.queue = new Queue(this.keys.queueName, { connection: client, prefix: this.keys.bullPrefix });
    // The queue re-emits its connection's errors: without a listener an outage would end the process.
    const log = options.logger ?? SILENT;
    let queueDown = false;
    this.queue.on('error', (err) => {
      if (!queueDown) log.warn({ error: err.message }, 'jobs queue: Redis unreachable; requests answer SB_BACKPLANE_UNAVAILABLE until it is back');
      queueDown = true;
    });
    client.on('ready', () => (queueDown = false));
  }

  /**
   * Validates against the job set (SB_JOB_UNKNOWN naming the known jobs, SB_JOB_INVALID_DATA naming
   * the field) and enqueues; the job is `queued` (seq 1) when this resolves.
   */
  async enqueue<N extends JobNameOf<S>>(name: N, data: JobNamed<JobsOf<S>, N>['data'], owner?: string): Promise<{ jobId: string }> {
    const job = this.catalog.validate(name, data);
    const jobId = randomBytes(12).toString('base64url');
    const def = job.definition;
    return this.bounded('enqueue', async () => {
      await this.store.create(jobId, job.name, owner);
      await this.queue.add(job.name, job.data, {
        jobId,
        attempts: def.attempts,
        ...(def.backoffMs ? { backoff: { type: 'fixed', delay: def.backoffMs } } : {}),
        removeOnComplete: { age: 3600, count: 1000 },
        removeOnFail: { age: 24 * 3600, count: 1000 },
      });
      return { jobId };
    });
  }

  /** The job's latest snapshot; SB_JOB_NOT_FOUND for unknown or expired ids, SB_JOB_FORBIDDEN for another user's job. */
  async get(jobId: unknown, requester?: JobRequester): Promise<JobSnapshot<JobsOf<S>>> {
    const id = checkId(jobId);
    const snapshot = await this.bounded('get', () => this.store.get(id));
    if (!snapshot) throw notFound(id);
    this.check(id, snapshot.owner ?? null, requester);
    return snapshot as JobSnapshot<JobsOf<S>>;
  }

  /**
   * The job's latest snapshot without an ownership check, undefined when unknown or expired. Only
   * for re-sending to connections that were authorized when they started watching (the jobs
   * hub's resync after a backplane outage).
   */
  async peek(jobId: string): Promise<JobSnapshot | undefined> {
    const id = checkId(jobId);
    return this.bounded('peek', () => this.store.get(id));
  }

  /**
   * Resolves when `requester` may see the job; rejects with SB_JOB_NOT_FOUND or SB_JOB_FORBIDDEN.
   * The hub's `watch` calls it before joining the job's group, so another user never receives a
   * single live update (the owner never changes, so checking first is enough).
   */
  async authorize(jobId: unknown, requester?: JobRequester): Promise<void> {
    const id = checkId(jobId);
    const owner = await this.bounded('authorize', () => this.store.owner(id));
    if (owner === undefined) throw notFound(id);
    this.check(id, owner, requester);
  }

  private check(jobId: string, owner: string | null, requester: JobRequester | undefined): void {
    if (owner === null || requester?.id === owner || requester?.roles?.includes(this.adminRole)) return;
    throw new SwitchboardError(
      'SB_JOB_FORBIDDEN',
      `Job '${jobId}' belongs to another user: only the user who enqueued it, or one with the '${this.adminRole}' role, may watch, get or cancel it${requester ? '' : ' (this request is anonymous: send an access token)'}.`,
    );
  }

  /**
   * Cancels from any process. A queued job is removed from the queue and reported cancelled
   * here; a running one gets a cancel request on the channel all workers listen to, and this
   * waits (up to cancelWaitMs) for its worker to confirm. True when the job ended cancelled.
   * Only the owner or an admin may (see `get`).
   */
  async cancel(jobId: unknown, requester?: JobRequester): Promise<boolean> {
    const id = checkId(jobId);
    await this.authorize(id, requester);
    const state = await this.bounded('cancel', () => this.store.requestCancel(id));
    if (state === undefined) throw notFound(id);
    if (TERMINAL.has(state)) return false;
    const removed = await this.bounded('cancel', async () => {
      const job = await this.queue.getJob(id);
      const bullState = job ? await job.getState() : 'unknown';
      if (job && (bullState === 'waiting' || bullState === 'delayed' || bullState === 'prioritized' || bullState === 'waiting-children')) {
        try {
          await job.remove();
          const update = await this.store.update(id, { state: 'cancelled', stage: null });
          if (update) await this.publishSafely(update);
          return true;
        } catch {
          // It became active meanwhile (locked): cancel it where it runs.
        }
      }
      await this.redis.publish(this.keys.cancelChannel, id);
      return false;
    });
    return removed || this.waitForEnd(id);
  }

  private async waitForEnd(jobId: string): Promise<boolean> {
    const deadline = Date.now() + (this.options.cancelWaitMs ?? 5000);
    for (;;) {
      const s = await this.bounded('cancel', () => this.store.get(jobId));
      if (!s) return false;
      if (TERMINAL.has(s.state)) return s.state === 'cancelled';
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Runs Redis work with an answer in bounded time: a Redis failure, or no answer within
   * `timeoutMs`, becomes SB_BACKPLANE_UNAVAILABLE (REST answers 503 with Retry-After; the jobs hub
   * sends the code), never a wait for the whole outage.
   */
  private async bounded<T>(what: string, work: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable(what, `no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      return await Promise.race([work(), deadline]);
    } catch (err) {
      if (isSwitchboardError(err)) throw err;
      throw unavailable(what, (err as Error)?.message ?? String(err));
    } finally {
      clearTimeout(timer);
    }
  }

  private async publishSafely(update: JobUpdate): Promise<void> {
    try {
      await this.options.publish(update);
    } catch {
      // Watchers re-read the snapshot on watch; a lost live update is recovered there.
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
    if (this.owned) await quit(this.redis);
  }
}

function checkId(jobId: unknown): string {
  if (typeof jobId !== 'string' || !JOB_ID_PATTERN.test(jobId)) {
    throw new SwitchboardError('SB_JOB_NOT_FOUND', `Unknown job id ${JSON.stringify(jobId)}: use the jobId string that enqueue returned.`);
  }
  return jobId;
}

function unavailable(what: string, reason: string): SwitchboardError {
  return new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', `Redis is unreachable (${what}: ${reason}); jobs cannot be enqueued, read or cancelled until it is back. Try again in a few seconds.`);
}

function notFound(jobId: string): SwitchboardError {
  return new SwitchboardError('SB_JOB_NOT_FOUND', `Unknown job id '${jobId}': it was never enqueued or its record expired.`);
}
