import type { JobsClient } from '@switchboard/contracts';
import { defineHub, HubError } from '@switchboard/hub-server';
import type { JobsService } from '../jobs-service.js';
import { lostUpdate } from '../job-store.js';
import { jobGroup, jobIdOfGroup } from '../keys.js';
import { isSwitchboardError } from '@switchboard/protocol';

/** Turns expected failures (unknown job, bad data, unknown id) into errors the client sees verbatim. */
async function clientErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isSwitchboardError(err)) throw new HubError(`${err.code}: ${err.message}`);
    throw err;
  }
}

/** Snapshots read from Redis at a time when resyncing after a backplane outage. */
const RESYNC_BATCH = 50;

const NO_REDIS = 'SB_JOBS_UNAVAILABLE: Jobs need Redis: start the hub node with REDIS_URL (or REDIS_CLUSTER_NODES) set, and run workers (switchboard-worker).';

/**
 * The jobs hub, mountable on any HubServer (`hubs.mapHub('/hubs/jobs', createJobsHub(service))`;
 * Switchboard's hub nodes serve it at /hubs/jobs (a job is watched and cancelled only by the user who enqueued it or an
 * admin: JobsService checks, SB_JOB_FORBIDDEN otherwise): `enqueue(name, data)` → { jobId }, `watch(jobId)` → snapshot (and
 * the caller joins the job's group), `unwatch(jobId)`, `cancel(jobId)` → boolean. Client method:
 * `jobUpdated(update)`. `watch` joins before it reads, so no update can fall between the
 * snapshot and the live stream; the client drops anything whose `seq` it has seen.
 */
export function createJobsHub(service: JobsService<any> | (() => JobsService<any> | undefined)) {
  const current = typeof service === 'function' ? service : () => service;
  const need = (): JobsService => {
    const s = current();
    if (!s) throw new HubError(NO_REDIS);
    return s;
  };
  return defineHub<JobsClient>()({
    methods: {
      enqueue: (ctx, name: unknown, data: unknown) => clientErrors(() => need().enqueue(name as string, data, ctx.user?.id)),
      watch: (ctx, jobId: unknown) =>
        clientErrors(async () => {
          const jobs = need();
          // Ownership first: another user's watch must not join the group even for a moment.
          await jobs.authorize(jobId, ctx.user);
          const group = jobGroup(jobId as string); // a valid id: authorize checked it
          await ctx.groups.add(ctx.connectionId, group);
          try {
            return await jobs.get(jobId, ctx.user);
          } catch (err) {
            await ctx.groups.remove(ctx.connectionId, group);
            throw err;
          }
        }),
      unwatch: (ctx, jobId: unknown) =>
        clientErrors(async () => {
          if (typeof jobId !== 'string') throw new HubError('unwatch takes the job id string that enqueue returned.');
          await ctx.groups.remove(ctx.connectionId, jobGroup(jobId));
        }),
      cancel: (ctx, jobId: unknown) => clientErrors(() => need().cancel(jobId, ctx.user)),
    },
    // Updates published while this node's backplane was down were lost for its watchers, who
    // stayed connected and so will not watch again: push each watched job's snapshot to this
    // node's watchers (their `seq` check drops it if they had it), so none misses a final state.
    async onBackplaneRestored({ groups, localGroup }) {
      const jobs = current();
      if (!jobs) return;
      const ids = groups.map(jobIdOfGroup).filter((id): id is string => id !== undefined);
      for (let i = 0; i < ids.length; i += RESYNC_BATCH) {
        await Promise.all(
          ids.slice(i, i + RESYNC_BATCH).map(async (id) => {
            // A job whose record is gone (Redis came back empty) ends `lost` for its watchers.
            const snapshot = (await jobs.peek(id)) ?? lostUpdate(id);
            await localGroup(jobGroup(id)).jobUpdated(snapshot);
          }),
        );
      }
    },
  });
}
