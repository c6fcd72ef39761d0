/**
 * Every Redis key and channel the jobs layer uses, from one prefix (REDIS_PREFIX, default `sb:`).
 * BullMQ's keys share one hash tag so its multi-key scripts work on a Redis Cluster.
 */
export class JobKeys {
  /** BullMQ `prefix` option: `{sb:jobs}` (a cluster hash tag). */
  readonly bullPrefix: string;
  /** The one BullMQ queue all job types share. */
  readonly queueName = 'jobs';
  /** Channel on which cancel requests reach every worker process. */
  readonly cancelChannel: string;

  constructor(readonly prefix: string) {
    this.bullPrefix = `{${prefix}jobs}`;
    this.cancelChannel = `${prefix}jobs:cancel`;
  }

  /** Hash holding a job's latest snapshot (see JobStore). */
  snapshot(jobId: string): string {
    return `${this.prefix}job:${jobId}`;
  }
}

/** The hub group a job's watchers join. */
export function jobGroup(jobId: string): string {
  return `job:${jobId}`;
}

/** Job ids are 12 random bytes in base64url (16 characters); accepted: 8-64 such characters. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
