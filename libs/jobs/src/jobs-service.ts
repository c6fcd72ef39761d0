import { randomBytes } from 'node:crypto';
import type { JobName, JobSnapshot, JobTypes, JobUpdate } from '@switchboard/contracts';
import type { RedisTarget } from '@switchboard/backplane-redis';
import { SwitchboardError } from '@switchboard/protocol';
import { Queue } from 'bullmq';
import { JOB_DEFINITIONS, validateJob } from './definitions.js';
import { JOB_ID_PATTERN, JobKeys } from './keys.js';
import { JobStore, TERMINAL } from './job-store.js';
import { commandClient, quit } from './redis-client.js';

export interface JobsServiceOptions {
  redis: RedisTarget;
  /** Key and channel prefix (REDIS_PREFIX). @defaultValue 'sb:' */
  prefix?: string;
  /** Delivers an update to the job's watchers (a hub endpoint or hub context group send). */
  publish: (update: JobUpdate) => Promise<void>;
  /** How long `cancel` waits for a running job to confirm it stopped. @defaultValue 5000 */
  cancelWaitMs?: number;
}

/**
 * Enqueue, read and cancel jobs: what hub nodes, the REST API and the CLI use. Workers run them
 * (see createJobsWorker). Every state a watcher can see is written through JobStore first.
 */
export class JobsService {
  readonly keys: JobKeys;
  readonly store: JobStore;
  readonly queue: Queue;
  private readonly redis;
  private readonly owned: boolean;

  constructor(private readonly options: JobsServiceOptions) {
    this.keys = new JobKeys(options.prefix ?? 'sb:');
    const { client, owned } = commandClient(options.redis);
    this.redis = client;
    this.owned = owned;
    this.store = new JobStore(client, this.keys);
    this.queue = new Queue(this.keys.queueName, { connection: client, prefix: this.keys.bullPrefix });
  }

  /** Validates and enqueues; the job is `queued` (seq 1) when this resolves. */
  async enqueue(name: unknown, data: unknown, owner?: string): Promise<{ jobId: string }> {
    const job = validateJob(name, data);
    const jobId = randomBytes(12).toString('base64url');
    const def = JOB_DEFINITIONS[job.name];
    await this.store.create(jobId, job.name, owner);
    await this.queue.add(job.name, job.data, {
      jobId,
      attempts: def.attempts,
      ...(def.backoffMs ? { backoff: { type: 'fixed', delay: def.backoffMs } } : {}),
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 24 * 3600, count: 1000 },
    });
    return { jobId };
  }

  /** The job's latest snapshot; SB_JOB_NOT_FOUND for unknown or expired ids. */
  async get(jobId: unknown): Promise<JobSnapshot> {
    const id = checkId(jobId);
    const snapshot = await this.store.get(id);
    if (!snapshot) throw notFound(id);
    return snapshot;
  }

  /**
   * Cancels from any process. A queued job is removed from the queue and reported cancelled
   * here; a running one gets a cancel request on the channel all workers listen to, and this
   * waits (up to cancelWaitMs) for its worker to confirm. True when the job ended cancelled.
   */
  async cancel(jobId: unknown): Promise<boolean> {
    const id = checkId(jobId);
    const state = await this.store.requestCancel(id);
    if (state === undefined) throw notFound(id);
    if (TERMINAL.has(state)) return false;
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
    return this.waitForEnd(id);
  }

  private async waitForEnd(jobId: string): Promise<boolean> {
    const deadline = Date.now() + (this.options.cancelWaitMs ?? 5000);
    for (;;) {
      const s = await this.store.get(jobId);
      if (!s) return false;
      if (TERMINAL.has(s.state)) return s.state === 'cancelled';
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 50));
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

export type EnqueueRequest<N extends JobName = JobName> = { name: N; data: JobTypes[N]['data'] };

function checkId(jobId: unknown): string {
  if (typeof jobId !== 'string' || !JOB_ID_PATTERN.test(jobId)) {
    throw new SwitchboardError('SB_JOB_NOT_FOUND', `Unknown job id ${JSON.stringify(jobId)}: use the jobId string that enqueue returned.`);
  }
  return jobId;
}

function notFound(jobId: string): SwitchboardError {
  return new SwitchboardError('SB_JOB_NOT_FOUND', `Unknown job id '${jobId}': it was never enqueued or its record expired.`);
}
