import type { JobSetShape, JobUpdate } from '@switchboard/contracts';
import type { RedisTarget } from '@switchboard/backplane-redis';
import type { JobCatalog } from './job-set.js';
import type { JobsLogger } from './outage-log.js';

// JobsService's options and its requester (jobs-service.ts re-exports both).

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
