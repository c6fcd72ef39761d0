import type { JobUpdate } from '@switchboard/contracts';
import { quitClient, type RedisTarget } from '@switchboard/backplane-redis';
import { SwitchboardError } from '@switchboard/protocol';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { JobContext, JobDefinition } from './define-job.js';
import { JobCatalog, type JobSet } from './job-set.js';
import { JobKeys } from './keys.js';
import { JobStore, type JobPatch } from './job-store.js';
import { TaskPool } from './pool.js';
import { logOutages, SILENT, type JobsLogger } from './outage-log.js';
import { ProgressThrottle } from './progress-throttle.js';
import { commandClient, corkWrites, duplicateClient } from './redis-client.js';

export interface JobsWorkerOptions {
  /** The job set this worker runs (the same as the hub nodes'): an array of defineJob results, or a loaded catalog. */
  jobs: JobSet | JobCatalog;
  redis: RedisTarget;
  /** @defaultValue 'sb:' */
  prefix?: string;
  /** Delivers an update to the job's watchers (a hub context group send). */
  publish: (update: JobUpdate) => Promise<void>;
  /**
   * Jobs this process runs at once. Not tied to the pool: jobs that wait on I/O hold no thread,
   * and CPU steps (`ctx.run`) queue for the pool's `poolSize` threads. @defaultValue 50 (DEFAULT_WORKER_CONCURRENCY)
   */
  concurrency?: number;
  /** piscina threads. @defaultValue os.availableParallelism() */
  poolSize?: number;
  /** Lock lifetime; a job whose worker died is picked up again after about this long. @defaultValue 10000 */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for. @defaultValue 5000 */
  stalledIntervalMs?: number;
  /** Minimum gap between two progress updates of one job. @defaultValue 100 */
  progressIntervalMs?: number;
  logger?: JobsLogger;
  /** Called once per run of a job (per attempt) when it ends; for metrics. Must not throw. */
  onJobEnd?: (run: JobRunEnd) => void;
}

/** Jobs a worker process runs at once unless told otherwise (WORKER_CONCURRENCY in apps/worker). */
export const DEFAULT_WORKER_CONCURRENCY = 50;

/**
 * How one run of a job ended: `completed`, `failed` and `cancelled` are final; `retry` means this
 * attempt failed and BullMQ runs it again; `handed-back` means the worker shut down and put it
 * back in the queue for another worker.
 */
export type JobRunOutcome = 'completed' | 'failed' | 'cancelled' | 'retry' | 'handed-back';

export interface JobRunEnd {
  readonly jobId: string;
  readonly name: string;
  readonly attempt: number;
  readonly outcome: JobRunOutcome;
  /** From the moment this worker took the job to the end of the run. */
  readonly durationMs: number;
}

/** A job this process is running: its abort switch, and whether shutdown asked to hand it back. */
interface RunningJob {
  readonly abort: AbortController;
  handBack: boolean;
  /** Moves the job to the list index's `active` band if it still runs (see ACTIVE_INDEX_DELAY_MS). */
  indexTimer?: NodeJS.Timeout;
}

/**
 * A job still running this long after it started is moved to the list index's `active` band; one
 * that ends sooner goes from its earlier band straight to its end (libs/jobs/README.md, the list
 * index). The hub nodes poll the list's version every 100 ms, so a list rarely shows it later.
 */
export const ACTIVE_INDEX_DELAY_MS = 100;

/**
 * A BullMQ worker running the job definitions, with CPU steps in a piscina pool. Publishes every
 * state change through `publish` after writing it to the JobStore, in `seq` order per job.
 * Cancel requests from any process arrive on the cancel channel and abort the job's signal,
 * which terminates its piscina task.
 */
export class JobsWorker {
  readonly pool: TaskPool;
  readonly worker: Worker;
  readonly catalog: JobCatalog;
  private readonly keys: JobKeys;
  private readonly store: JobStore;
  private readonly redis: Redis | Cluster;
  private readonly owned: boolean;
  private readonly subscriber: Redis | Cluster;
  private readonly log: NonNullable<JobsWorkerOptions['logger']>;
  private readonly running = new Map<string, RunningJob>();

  constructor(private readonly options: JobsWorkerOptions) {
    this.catalog = JobCatalog.of(options.jobs, 'jobs');
    this.keys = new JobKeys(options.prefix ?? 'sb:');
    const { client, owned } = commandClient(options.redis);
    this.redis = client;
    this.owned = owned;
    this.store = new JobStore(client, this.keys);
    this.pool = new TaskPool({ size: options.poolSize });
    this.log = options.logger ?? SILENT;
    if (this.owned) logOutages(this.redis, this.log, 'job store connection');
    this.worker = new Worker(this.keys.queueName, (job, token, signal) => this.process(job, token, signal), {
      // BullMQ's command connection, corked like the store's; BullMQ makes its blocking connection
      // (BZPOPMIN) from it with `duplicate()`, which is not corked.
      connection: corkWrites(duplicateClient(client)),
      prefix: this.keys.bullPrefix,
      concurrency: options.concurrency ?? DEFAULT_WORKER_CONCURRENCY,
      lockDuration: options.lockDurationMs ?? 10_000,
      stalledInterval: options.stalledIntervalMs ?? 5_000,
      maxStalledCount: 3,
    });
    this.worker.on('error', (err) => this.log.error({ err }, 'jobs worker error'));
    this.subscriber = duplicateClient(client);
    logOutages(this.subscriber, this.log, 'cancel subscriber');
    this.subscriber.on('message', (_channel: string, jobId: string) => {
      if (this.worker.cancelJob(jobId, 'cancelled')) this.log.info({ jobId }, 'cancelling a running job');
    });
    void this.subscriber.subscribe(this.keys.cancelChannel).catch((err: Error) => this.log.error({ err }, 'could not subscribe to cancel requests'));
  }

  /** Resolves when the worker is connected and taking jobs. */
  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  /** Jobs running in this process now. */
  get activeJobs(): number {
    return this.running.size;
  }

  private async process(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<unknown> {
    const jobId = job.id!;
    const def = this.catalog.get(job.name);
    if (!def) return this.refuseUnknown(job);
    const attempt = job.attemptsMade + 1;
    const takenAt = Date.now();
    const abort = new AbortController();
    const onAbort = () => abort.abort(new SwitchboardError('SB_JOB_CANCELLED', 'The job was cancelled.'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const run: RunningJob = { abort, handBack: false };
    this.running.set(jobId, run);
    const ended = (outcome: JobRunOutcome) => this.options.onJobEnd?.({ jobId, name: def.name, attempt, outcome, durationMs: Date.now() - takenAt });
    try {
      return await this.run(job, token, def, attempt, run, ended);
    } finally {
      clearTimeout(run.indexTimer);
      this.running.delete(jobId);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * A job whose name this worker's job set lacks (hub nodes and workers loaded different job sets):
   * it ends `failed` with a message saying so, so its watchers are told; it is never silently lost.
   */
  private async refuseUnknown(job: Job): Promise<never> {
    const refusal = new SwitchboardError(
      'SB_JOB_NOT_IN_WORKER_SET',
      `worker ${process.pid} has no job '${job.name}' in its job set (it has: ${this.catalog.names.join(', ') || 'none'}). Give hub nodes and workers the same JOBS_MODULE.`,
    );
    const message = `${refusal.code}: ${refusal.message}`;
    this.log.error({ jobId: job.id, job: job.name, known: this.catalog.names }, 'a job that is not in this worker\'s job set: failing it');
    const update = await this.store.update(job.id!, { state: 'failed', error: message });
    if (update) await this.options.publish(update).catch((err) => this.log.warn({ jobId: job.id, err }, 'publishing a job update failed'));
    this.options.onJobEnd?.({ jobId: job.id!, name: job.name, attempt: job.attemptsMade + 1, outcome: 'failed', durationMs: 0 });
    throw new UnrecoverableError(message);
  }

  private async run(
    job: Job,
    token: string | undefined,
    def: JobDefinition,
    attempt: number,
    running: RunningJob,
    ended: (outcome: JobRunOutcome) => void,
  ): Promise<unknown> {
    const { abort } = running;
    const jobId = job.id!;

    // All writes of this job go through one chain so `seq` order equals publish order. A progress
    // report that finds the previous one still waiting for its turn (Redis or the publish is
    // slower than the throttle) takes its place instead of queueing behind it: the latest value
    // wins and a backlog cannot build up. Only progress merges, never a state, and never across a
    // stage change (every stage is still written, in order).
    let chain: Promise<unknown> = Promise.resolve();
    let last: { patch: JobPatch; started: boolean; done: Promise<void> } | undefined;
    const write = (patch: JobPatch): Promise<void> => {
      const progressOnly = (p: JobPatch) => Object.keys(p).every((k) => k === 'progress' || k === 'stage');
      if (last && !last.started && progressOnly(last.patch) && progressOnly(patch) && (patch.stage === undefined || patch.stage === last.patch.stage)) {
        if (patch.progress !== undefined) last.patch.progress = patch.progress;
        return last.done;
      }
      const entry = { patch: { ...patch }, started: false, done: Promise.resolve() };
      entry.done = chain.then(async () => {
        entry.started = true;
        const update = await this.store.update(jobId, entry.patch);
        if (update) await this.options.publish(update).catch((err) => this.log.warn({ jobId, err }, 'publishing a job update failed'));
      });
      chain = entry.done.catch(() => {});
      last = entry;
      return entry.done;
    };

    // `active`, unless a cancel was requested before it started: one round trip for both. The list
    // index is moved to `active` only if the job still runs ACTIVE_INDEX_DELAY_MS later: most jobs
    // end sooner, and their end moves them in the index anyway (four ZADDs and a version bump per
    // job saved; watchers and `get` see `active` at once, only lists and counts lag).
    const started = await this.store.update(jobId, { state: 'active', attempt, progress: 0, stage: null, error: null, startedAt: Date.now() }, undefined, { unlessCancelRequested: true, indexActiveLater: true });
    if (started === 'cancel-requested') {
      await write({ state: 'cancelled', stage: null });
      ended('cancelled');
      throw new UnrecoverableError('The job was cancelled before it started.');
    }
    if (started) {
      running.indexTimer = setTimeout(() => void this.store.indexActive(jobId).catch((err) => this.log.warn({ jobId, err }, 'indexing an active job failed')), ACTIVE_INDEX_DELAY_MS);
      const publishing = this.options.publish(started).catch((err) => this.log.warn({ jobId, err }, 'publishing a job update failed'));
      chain = publishing; // later writes publish after this one (seq order)
    }
    const throttle = new ProgressThrottle<{ p: number; stage: string | undefined }>(this.options.progressIntervalMs ?? 100, ({ p, stage }) => {
      void write({ progress: p, ...(stage ? { stage } : {}) });
    });
    const stages: ReadonlySet<string> = new Set(def.stages);
    // Where the job is, whatever the coalescing let out: a failed or cancelled job's final update
    // shows the stage and progress it had reached.
    const reached: { p: number; stage: string | undefined } = { p: 0, stage: undefined };
    const ctx: JobContext = {
      jobId,
      attempt,
      // Made on first use: most jobs never look at it (and every AbortSignal costs its creation).
      get signal() {
        return abort.signal;
      },
      progress: (p, stage) => {
        if (stage !== undefined && stages.size && !stages.has(stage)) {
          throw new SwitchboardError('SB_CONFIG_INVALID', `Job '${def.name}' reported stage '${stage}', which is not one of its stages (${def.stages.join(', ')}).`);
        }
        const entering = stage !== undefined && stage !== reached.stage;
        reached.p = p;
        if (stage !== undefined) reached.stage = stage;
        // Every stage is shown: entering one is never coalesced away (stages are few).
        if (entering) throttle.reportNow({ p, stage });
        else throttle.report({ p, stage });
      },
      run: (task, input, options = {}) => this.pool.run(task, input, { signal: abort.signal, ...(options.onProgress ? { onProgress: options.onProgress } : {}) }),
    };
    try {
      const result = await def.process(ctx, job.data);
      throttle.stop();
      await write({ state: 'completed', progress: 100, result });
      ended('completed');
      return result;
    } catch (err) {
      throttle.stop();
      const cancelRequested = await this.store.isCancelRequested(jobId);
      if (running.handBack && !cancelRequested) {
        // Shutdown: `queued` is written before the job is back in the queue, so the next
        // worker's `active` always comes after it (higher seq). Another worker starts it over;
        // the attempt number does not change (BullMQ does not count this as an attempt).
        await write({ state: 'queued', progress: 0, stage: null });
        await job.moveToWait(token);
        ended('handed-back');
        this.log.info({ jobId }, 'handed a running job back to the queue (shutdown)');
        throw new WaitingError();
      }
      const where = { progress: reached.p, stage: reached.stage };
      if (abort.signal.aborted || cancelRequested) {
        await write({ state: 'cancelled', ...where });
        ended('cancelled');
        throw new UnrecoverableError('The job was cancelled.');
      }
      const message = err instanceof Error ? err.message : String(err);
      const final = err instanceof UnrecoverableError || attempt >= (job.opts.attempts ?? 1);
      // A failed attempt with retries left goes back to `queued`, keeping the error visible.
      await write(final ? { state: 'failed', error: message, ...where } : { state: 'queued', error: message });
      ended(final ? 'failed' : 'retry');
      throw err;
    }
  }

  /**
   * Stops taking jobs and lets running ones finish. With `handBackAfterMs`, jobs still running
   * after that long are stopped (their signal aborts) and handed back to the queue: their
   * watchers see `queued`, and another worker runs them from the start. Then closes the pool
   * and connections. A job that finishes while being handed back ends normally.
   */
  async close(options: { handBackAfterMs?: number } = {}): Promise<void> {
    const closing = this.worker.close();
    // Armed even when nothing runs yet: a job fetched just before close still starts.
    if (options.handBackAfterMs !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), options.handBackAfterMs)));
      if (await Promise.race([closing.then(() => false), late])) {
        for (const [jobId, run] of this.running) {
          run.handBack = true;
          run.abort.abort(new SwitchboardError('SB_JOB_CANCELLED', 'The worker is shutting down; the job goes back to the queue.'));
          this.log.info({ jobId }, 'shutdown deadline: handing a running job back');
        }
      }
      clearTimeout(timer);
    }
    await closing;
    await this.pool.destroy();
    await this.store.flushFinished();
    await quitClient(this.subscriber);
    if (this.owned) await quitClient(this.redis);
  }
}
