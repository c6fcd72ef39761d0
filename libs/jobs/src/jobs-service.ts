import type { EnqueueOptions, EnqueueResult, JobListChange, JobListPage, JobNameOf, JobNamed, JobSetShape, JobSnapshot, JobTypeInfo, JobsOf, JobUpdate } from '@switchboard/contracts';
import { quitClient, type RedisTarget } from '@switchboard/backplane-redis';
import { SwitchboardError, isSwitchboardError } from '@switchboard/protocol';
import { Queue } from 'bullmq';
import { JobCatalog, type JobSet } from './job-set.js';
import { JobList, type ListScope } from './job-list.js';
import { describeJobTypes } from './job-types.js';
import { JobKeys } from './keys.js';
import { newJobId } from './job-ids.js';
import { JobStore, TERMINAL } from './job-store.js';
import { SILENT, type JobsLogger } from './outage-log.js';
import { requestClient } from './redis-client.js';
import { bullOptions, checkOptions, optionsInvalid } from './enqueue-options.js';
import { checkId, conflict, forbidden, notFound, unavailable } from './service-errors.js';
import type { JobRequester, JobsServiceOptions } from './service-options.js';

export type { JobsServiceOptions, JobRequester } from './service-options.js';

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
  readonly list: JobList;
  readonly queue: Queue;
  private readonly redis;
  private readonly owned: boolean;
  private readonly adminRole: string;
  private readonly timeoutMs: number;
  private readonly firstReady: Promise<void>;
  private readonly log: JobsLogger;
  /** The upgrade of the per-state list index (JobList.upgradeOldIndex) while it runs. */
  private upgrading: Promise<void> | undefined;
  private indexUpgraded = false;
  private closing = false;
  private readonly onReady: () => void;

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
    this.list = new JobList(client, this.keys, this.store);
    this.queue = new Queue(this.keys.queueName, { connection: client, prefix: this.keys.bullPrefix });
    // The queue re-emits its connection's errors: without a listener an outage would end the process.
    const log = (this.log = options.logger ?? SILENT);
    let queueDown = false;
    this.queue.on('error', (err) => {
      if (!queueDown) log.warn({ error: err.message }, 'jobs queue: Redis unreachable; requests answer SB_BACKPLANE_UNAVAILABLE until it is back');
      queueDown = true;
    });
    // Every (re)connection: the upgrade of the per-state list index runs (or resumes) unless done.
    this.onReady = () => {
      queueDown = false;
      this.upgradeIndex();
    };
    client.on('ready', this.onReady);
    // Until the first connection is up, requests wait for it (within their bound) instead of
    // failing: the client has no offline queue, so a service used right after construction
    // would otherwise fail at once.
    this.firstReady = client.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => client.once('ready', () => resolve()));
    if (client.status === 'ready') this.upgradeIndex();
  }

  /**
   * Indexes the jobs that the per-state list index of earlier 0.1.0 builds holds and deletes its
   * sets, in the background, once per deployment (JobList.upgradeOldIndex: bounded steps, a
   * marker in Redis; any process may finish what another began). Stopped by `close`; a run that
   * Redis interrupted resumes at the next connection.
   */
  private upgradeIndex(): void {
    if (this.indexUpgraded || this.upgrading || this.closing) return;
    this.upgrading = this.list
      .upgradeOldIndex(() => this.closing)
      .then(
        (jobs) => {
          this.indexUpgraded = !this.closing;
          if (jobs) this.log.info({ jobs }, 'jobs list index: indexed the jobs of the per-state index (earlier 0.1.0 builds) and deleted its sets');
        },
        (err: Error) => this.log.warn({ error: err?.message }, 'jobs list index: the upgrade of the per-state index stopped; it resumes when Redis is reachable again'),
      )
      .finally(() => (this.upgrading = undefined));
  }

  /**
   * Validates against the job set (SB_JOB_UNKNOWN naming the known jobs, SB_JOB_INVALID_DATA naming
   * the field) and the options (SB_JOB_OPTIONS_INVALID), and enqueues: the job is `queued` (or
   * `delayed` until `delayMs` passed) with seq 1 when this resolves. With an `idempotencyKey` used
   * in the last 24 h it enqueues nothing and answers the first job's id with `duplicate: true`.
   * `owner`: the authenticated user who enqueues (the hub's `ctx.user.id`); only they and admins
   * may see the job. With `beforeWrite` (enqueue-and-watch) a new job's answer carries its
   * snapshot as written (`snapshot`: seq 1), so the caller needs no read after the enqueue.
   */
  async enqueue<N extends JobNameOf<S>>(
    name: N,
    data: JobNamed<JobsOf<S>, N>['data'],
    options?: EnqueueOptions,
    owner?: string,
    /**
     * Runs after validation, before anything is written (the jobs hub joins the job's group here for
     * `watch`); a route id it answers is written with the record (routed watching, watch-routes.ts).
     */
    beforeWrite?: (jobId: string) => Promise<string | undefined | void>,
  ): Promise<EnqueueResult> {
    const job = this.catalog.validate(name, data);
    const opts = checkOptions(options);
    const jobId = newJobId();
    const def = job.definition;
    const now = Date.now();
    const route = (await beforeWrite?.(jobId)) || undefined;
    return this.bounded('enqueue', async () => {
      const createOptions = { dueAt: opts.delayMs ? now + opts.delayMs : undefined, priority: opts.priority, idempotencyKey: opts.idempotencyKey, route };
      if (opts.idempotencyKey !== undefined) {
        // The add depends on the create's answer (a key already used adds nothing): one after the other.
        const created = await this.store.create(jobId, job.name, owner, createOptions, now);
        if (!created.created) return { jobId: created.jobId, duplicate: true };
        await this.queue.add(job.name, job.data, bullOptions(jobId, def, opts));
        return beforeWrite ? { jobId, snapshot: created.snapshot } : { jobId };
      }
      // The snapshot and the BullMQ job in one write, one round trip: Redis runs them in order on
      // this connection, so a worker never sees the job before its record. The snapshot's script
      // goes with its text (EVAL), so it cannot fail for a script Redis lost while the add goes
      // through; should it fail otherwise, the BullMQ job is removed: never a job without a record.
      const [created, added] = await Promise.allSettled([this.store.create(jobId, job.name, owner, createOptions, now, true), this.queue.add(job.name, job.data, bullOptions(jobId, def, opts))]);
      if (created.status === 'rejected') {
        if (added.status === 'fulfilled' && (await this.queue.remove(jobId).catch(() => 0)) !== 1) {
          this.log.error({ jobId, error: (created.reason as Error)?.message }, 'enqueue: the job record was not written and its BullMQ job could not be removed; it may run unwatched');
        }
        throw created.reason;
      }
      if (added.status === 'rejected') throw added.reason;
      const snapshot = created.value.created ? created.value.snapshot : undefined; // always created: no idempotency key
      return beforeWrite && snapshot ? { jobId, snapshot } : { jobId };
    });
  }

  /**
   * Enqueues many jobs in two round trips (one pipeline of snapshot writes, one BullMQ `addBulk`):
   * for bursts and seeding. Every request is validated first; one bad request refuses the whole
   * batch (nothing is enqueued). Idempotency keys are not taken here. Returns the ids in order.
   */
  async enqueueMany(requests: readonly { name: JobNameOf<S>; data: unknown; options?: Omit<EnqueueOptions, 'idempotencyKey'> }[], owner?: string): Promise<{ jobIds: string[] }> {
    const now = Date.now();
    const jobs = requests.map((r, i) => {
      try {
        const job = this.catalog.validate(r.name, r.data);
        const opts = checkOptions(r.options);
        if ('idempotencyKey' in opts) throw optionsInvalid('enqueueMany takes no idempotencyKey');
        return { ...job, opts, jobId: newJobId() };
      } catch (err) {
        if (isSwitchboardError(err)) throw new SwitchboardError(err.code, `Request ${i}: ${err.message}`);
        throw err;
      }
    });
    return this.bounded('enqueue', async () => {
      await this.store.createMany(jobs.map((j) => ({ jobId: j.jobId, name: j.name, owner, options: { dueAt: j.opts.delayMs ? now + j.opts.delayMs : undefined, priority: j.opts.priority } })), now);
      await this.queue.addBulk(
        jobs.map((j) => ({
          name: j.name,
          data: j.data,
          opts: bullOptions(j.jobId, j.definition, j.opts),
        })),
      );
      return { jobIds: jobs.map((j) => j.jobId) };
    });
  }

  /** The job set as clients see it: names, stages, attempts, the data's JSON Schema. */
  jobTypes(): JobTypeInfo[] {
    return (this.#types ??= describeJobTypes(this.catalog.definitions));
  }
  #types: JobTypeInfo[] | undefined;

  /** Whose jobs a requester lists: admins every job, users their own, anonymous callers the anonymous jobs. */
  scopeOf(requester?: JobRequester): ListScope {
    if (requester?.roles?.includes(this.adminRole)) return { everyOwner: true };
    return { everyOwner: false, owner: requester?.id };
  }

  /** A page of jobs, newest first, with the counts per state (SB_JOB_LIST_INVALID for a bad query). */
  async listJobs(query: unknown, requester?: JobRequester): Promise<JobListPage<JobsOf<S>>> {
    JobList.parse(query);
    return (await this.bounded('list', () => this.list.page(this.scopeOf(requester), query))) as JobListPage<JobsOf<S>>;
  }

  /** The counts per state a requester may see, and when. */
  async listCounts(requester?: JobRequester): Promise<JobListChange> {
    const counts = await this.bounded('list', () => this.list.counts(this.scopeOf(requester)));
    return { counts, at: Date.now() };
  }

  /**
   * Runs a failed job again: its snapshot goes back to `queued` (seq + 1; its watchers see it), then
   * BullMQ retries it and the next attempt runs. SB_JOB_STATE_CONFLICT when it did not fail or its
   * queue entry is gone (failed jobs are kept 24 h, at most 1,000).
   */
  async retry(jobId: unknown, requester?: JobRequester): Promise<{ jobId: string }> {
    const id = checkId(jobId);
    await this.authorize(id, requester);
    return this.bounded('retry', async () => {
      const job = await this.queue.getJob(id);
      const bullState = job ? await job.getState() : 'unknown';
      if (!job || bullState !== 'failed') {
        const snapshot = await this.store.get(id);
        if (!snapshot) throw notFound(id);
        throw conflict(`Job '${id}' is ${snapshot.state}${snapshot.state === 'failed' ? ' but its queue entry is gone (failed jobs are kept 24 h, at most 1,000)' : ''}: only a failed job can be retried.`);
      }
      const reopened = await this.store.reopen(id);
      if (!reopened) throw notFound(id);
      if ('state' in reopened) throw conflict(`Job '${id}' is ${reopened.state}: only a failed job can be retried.`);
      await this.publishSafely(reopened.snapshot);
      await job.retry('failed');
      return { jobId: id };
    });
  }

  /** Deletes a finished job (completed, failed, cancelled): its queue entry and its record. SB_JOB_STATE_CONFLICT otherwise. */
  async remove(jobId: unknown, requester?: JobRequester): Promise<boolean> {
    const id = checkId(jobId);
    await this.authorize(id, requester);
    return this.bounded('remove', async () => {
      const removed = await this.store.remove(id);
      if (removed === undefined) throw notFound(id);
      if (removed !== true) throw conflict(`Job '${id}' is ${removed}: only a finished job (completed, failed or cancelled) can be removed; cancel it first.`);
      await (await this.queue.getJob(id))?.remove().catch(() => {});
      return true;
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
   * `get` for a hub node that starts watching the job with routed membership: registers `route`
   * (its route id) in the job's record and answers the snapshot in one round trip, so every update
   * written afterwards reaches the node (watch-routes.ts). Check ownership first (`authorize`):
   * the node receives the job's updates from here on.
   */
  async watchVia(jobId: unknown, route: string, requester?: JobRequester): Promise<{ snapshot: JobSnapshot<JobsOf<S>>; full: boolean }> {
    const id = checkId(jobId);
    const watched = await this.bounded('get', () => this.store.watch(id, route));
    if (!watched) throw notFound(id);
    this.check(id, watched.snapshot.owner ?? null, requester);
    return watched as { snapshot: JobSnapshot<JobsOf<S>>; full: boolean };
  }

  /**
   * The job's latest snapshot without an ownership check, undefined when unknown or expired. Only
   * for re-sending to connections that were authorized when they started watching (the jobs
   * hub's resync after a backplane outage); `route`: their node's route id, written again into
   * the record as `watchVia` does.
   */
  async peek(jobId: string, route?: string): Promise<JobSnapshot | undefined> {
    const id = checkId(jobId);
    // With the node's route id: registered again in the same read (Redis may have lost it).
    return this.bounded('peek', async () => (route === undefined ? this.store.get(id) : (await this.store.watch(id, route))?.snapshot));
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
    throw forbidden(jobId, this.adminRole, requester === undefined);
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
    try {
      // One promise settled by the work or the timer, not a Promise.race of two (an enqueue runs
      // this once: the race's extra promises were a visible part of the hub's CPU per job).
      return await new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(unavailable(what, `no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        const settle = (ok: boolean, value: unknown) => {
          clearTimeout(timer);
          if (ok) resolve(value as T);
          else reject(value);
        };
        this.firstReady.then(work).then(
          (value) => settle(true, value),
          (err: unknown) => settle(false, err),
        );
      });
    } catch (err) {
      if (isSwitchboardError(err)) throw err;
      throw unavailable(what, (err as Error)?.message ?? String(err), (err as Error)?.name === 'ReplyError');
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
    this.closing = true;
    this.redis.off('ready', this.onReady);
    await this.upgrading;
    await this.store.flushFinished();
    await this.queue.close();
    if (this.owned) await quitClient(this.redis);
  }
}
