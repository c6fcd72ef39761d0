import type { JobName, JobTypes, JobUpdate } from '@switchboard/contracts';
import type { RedisTarget } from '@switchboard/backplane-redis';
import { SwitchboardError } from '@switchboard/protocol';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { JOB_DEFINITIONS, type JobContext } from './definitions.js';
import { JobKeys } from './keys.js';
import { JobStore, type JobPatch } from './job-store.js';
import { TaskPool } from './pool.js';
import { ProgressThrottle } from './progress-throttle.js';
import { commandClient, duplicateClient, quit } from './redis-client.js';

export interface JobsWorkerOptions {
  redis: RedisTarget;
  /** @defaultValue 'sb:' */
  prefix?: string;
  /** Delivers an update to the job's watchers (a hub context group send). */
  publish: (update: JobUpdate) => Promise<void>;
  /** Jobs this process runs at once. @defaultValue the pool size */
  concurrency?: number;
  /** piscina threads. @defaultValue os.availableParallelism() */
  poolSize?: number;
  /** Lock lifetime; a job whose worker died is picked up again after about this long. @defaultValue 10000 */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for. @defaultValue 5000 */
  stalledIntervalMs?: number;
  /** Minimum gap between two progress updates of one job. @defaultValue 100 */
  progressIntervalMs?: number;
  logger?: { info(o: object, m?: string): void; warn(o: object, m?: string): void; error(o: object, m?: string): void };
}

/**
 * A BullMQ worker running the job definitions, with CPU steps in a piscina pool. Publishes every
 * state change through `publish` after writing it to the JobStore, in `seq` order per job.
 * Cancel requests from any process arrive on the cancel channel and abort the job's signal,
 * which terminates its piscina task.
 */
export class JobsWorker {
  readonly pool: TaskPool;
  readonly worker: Worker;
  private readonly keys: JobKeys;
  private readonly store: JobStore;
  private readonly redis: Redis | Cluster;
  private readonly owned: boolean;
  private readonly subscriber: Redis | Cluster;
  private readonly log: NonNullable<JobsWorkerOptions['logger']>;

  constructor(private readonly options: JobsWorkerOptions) {
    this.keys = new JobKeys(options.prefix ?? 'sb:');
    const { client, owned } = commandClient(options.redis);
    this.redis = client;
    this.owned = owned;
    this.store = new JobStore(client, this.keys);
    this.pool = new TaskPool(options.poolSize !== undefined ? { size: options.poolSize } : {});
    this.log = options.logger ?? { info() {}, warn() {}, error() {} };
    this.worker = new Worker(this.keys.queueName, (job, _token, signal) => this.process(job, signal), {
      connection: duplicateClient(client),
      prefix: this.keys.bullPrefix,
      concurrency: options.concurrency ?? this.pool.size,
      lockDuration: options.lockDurationMs ?? 10_000,
      stalledInterval: options.stalledIntervalMs ?? 5_000,
      maxStalledCount: 3,
    });
    this.worker.on('error', (err) => this.log.error({ err }, 'jobs worker error'));
    this.subscriber = duplicateClient(client);
    this.subscriber.on('message', (_channel: string, jobId: string) => {
      if (this.worker.cancelJob(jobId, 'cancelled')) this.log.info({ jobId }, 'cancelling a running job');
    });
    void this.subscriber.subscribe(this.keys.cancelChannel).catch((err: Error) => this.log.error({ err }, 'could not subscribe to cancel requests'));
  }

  /** Resolves when the worker is connected and taking jobs. */
  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  private async process(job: Job, signal: AbortSignal | undefined): Promise<unknown> {
    const jobId = job.id!;
    const name = job.name as JobName;
    const def = JOB_DEFINITIONS[name];
    if (!def) throw new UnrecoverableError(`Unknown job name '${job.name}'.`);
    const attempt = job.attemptsMade + 1;
    const abort = new AbortController();
    const onAbort = () => abort.abort(new SwitchboardError('SB_JOB_CANCELLED', 'The job was cancelled.'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });

    // All writes of this job go through one chain so `seq` order equals publish order.
    let chain: Promise<unknown> = Promise.resolve();
    const write = (patch: JobPatch): Promise<void> => {
      const next = chain.then(async () => {
        const update = await this.store.update(jobId, patch);
        if (update) await this.options.publish(update).catch((err) => this.log.warn({ jobId, err }, 'publishing a job update failed'));
      });
      chain = next.catch(() => {});
      return next;
    };

    if (await this.store.isCancelRequested(jobId)) {
      await write({ state: 'cancelled', stage: null });
      throw new UnrecoverableError('The job was cancelled before it started.');
    }
    await write({ state: 'active', attempt, progress: 0, stage: null, error: null, startedAt: Date.now() });
    const throttle = new ProgressThrottle<{ p: number; stage: string | undefined }>(this.options.progressIntervalMs ?? 100, ({ p, stage }) => {
      void write({ progress: p, ...(stage ? { stage } : {}) });
    });
    const ctx: JobContext<typeof name> = {
      jobId,
      attempt,
      signal: abort.signal,
      pool: this.pool,
      progress: (p, stage) => throttle.report({ p, stage }),
    };
    try {
      const result = await (def.process as (c: typeof ctx, d: unknown) => Promise<JobTypes[JobName]['result']>)(ctx, job.data);
      throttle.stop();
      await write({ state: 'completed', progress: 100, result });
      return result;
    } catch (err) {
      throttle.stop();
      if (abort.signal.aborted || (await this.store.isCancelRequested(jobId))) {
        await write({ state: 'cancelled' });
        throw new UnrecoverableError('The job was cancelled.');
      }
      const message = err instanceof Error ? err.message : String(err);
      const final = err instanceof UnrecoverableError || attempt >= (job.opts.attempts ?? 1);
      // A failed attempt with retries left goes back to `queued`, keeping the error visible.
      await write(final ? { state: 'failed', error: message } : { state: 'queued', error: message });
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Stops taking jobs, lets running ones finish (or hands them back on timeout), then closes. */
  async close(): Promise<void> {
    await this.worker.close();
    await this.pool.destroy();
    await quit(this.subscriber);
    if (this.owned) await quit(this.redis);
  }
}
