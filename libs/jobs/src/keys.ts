/**
 * Keys of the live system view (see SystemRegistry), under one hash tag (`{sb:system}`) so that
 * multi-key reads (MGET of the per-second counters) work on a Redis Cluster.
 *
 * | key | type | holds |
 * |---|---|---|
 * | `{P system}:hub-nodes` | hash | node id → JSON HubNodeStats (heartbeat, seenAt) |
 * | `{P system}:workers` | hash | worker id → JSON WorkerStats (heartbeat, seenAt) |
 * | `{P system}:leader` | string, PX 3 s | id of the hub node that pushes `systemStats` |
 * | `{P system}:finished:{second}` | counter, 60 s TTL | jobs that reached a terminal state in that epoch second |
 */
export class SystemKeys {
  readonly hubNodes: string;
  readonly workers: string;
  readonly leader: string;
  private readonly tag: string;

  constructor(readonly prefix: string) {
    this.tag = `{${prefix}system}`;
    this.hubNodes = `${this.tag}:hub-nodes`;
    this.workers = `${this.tag}:workers`;
    this.leader = `${this.tag}:leader`;
  }

  /** Counter of jobs that ended in epoch second `second` (Math.floor(ms / 1000)). */
  finished(second: number): string {
    return `${this.tag}:finished:${second}`;
  }
}

/**
 * Every Redis key and channel the jobs layer uses, from one prefix (REDIS_PREFIX, default `sb:`).
 * BullMQ's keys, the job snapshots and the list index share one hash tag (`{sb:jobs}`) so the
 * multi-key scripts of both work on a Redis Cluster.
 */
export class JobKeys {
  /** BullMQ `prefix` option: `{sb:jobs}` (a cluster hash tag). */
  readonly bullPrefix: string;
  /** The one BullMQ queue all job types share. */
  readonly queueName = 'jobs';
  /** Channel on which cancel requests reach every worker process. */
  readonly cancelChannel: string;
  /** The system view's keys (heartbeats, leader, finished-job counters). */
  readonly system: SystemKeys;

  constructor(readonly prefix: string) {
    this.bullPrefix = `{${prefix}jobs}`;
    this.cancelChannel = `${prefix}jobs:cancel`;
    this.system = new SystemKeys(prefix);
  }

  /** Hash holding a job's latest snapshot (see JobStore); under BullMQ's hash tag, so one script can update it and the index. */
  snapshot(jobId: string): string {
    return `${this.bullPrefix}:job:${jobId}`;
  }

  /** Prefix of the list index's sorted sets (see store-scripts.ts); `<index>version` counts its changes. */
  get index(): string {
    return `${this.bullPrefix}:idx:`;
  }

  /** Remembers an enqueue's idempotency key for 24 h (its value: the first job's id). */
  idempotency(key: string): string {
    return `${this.bullPrefix}:idem:${key}`;
  }
}

/** How an owner (or no owner) and a job name appear in index key names: encoded, so ':' cannot mix them up. */
export function indexOwner(owner: string | undefined): string {
  return owner ? encodeURIComponent(owner) : '-';
}
export function indexName(name: string): string {
  return encodeURIComponent(name);
}

/**
 * The list index's two sorted sets of a scope (see store-scripts.ts): every job (`everyOwner`,
 * `owner` ignored), one owner's (or the anonymous jobs: `owner` undefined), optionally one job name.
 * `state`: by state band, then `createdAt`; `time`: by `createdAt`. Must name sets exactly as
 * store-scripts.ts's `index` does.
 */
export function indexKeys(keys: JobKeys, scope: { everyOwner: boolean; owner?: string | undefined; name?: string | undefined }): { state: string; time: string } {
  let suffix = '';
  if (!scope.everyOwner) suffix += `:o:${indexOwner(scope.owner)}`;
  if (scope.name !== undefined) suffix += `:n:${indexName(scope.name)}`;
  return { state: `${keys.index}state${suffix}`, time: `${keys.index}time${suffix}` };
}

/** The hub group a job's watchers join. */
export function jobGroup(jobId: string): string {
  return `job:${jobId}`;
}

/** The job id of a `jobGroup` name; undefined for any other group. */
export function jobIdOfGroup(group: string): string | undefined {
  if (!group.startsWith('job:')) return undefined;
  const id = group.slice(4);
  return JOB_ID_PATTERN.test(id) ? id : undefined;
}

/** Job ids are 12 random bytes in base64url (16 characters); accepted: 8-64 such characters. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
