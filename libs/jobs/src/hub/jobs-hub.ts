import type { JobsClient, JobSnapshot } from '@switchboard/contracts';
import { defineHub, HubError, type HubCallContext } from '@switchboard/hub-server';
import type { EnqueueOptions } from '@switchboard/contracts';
import type { JobsService } from '../jobs-service.js';
import { lostUpdate } from '../job-store.js';
import { endsWatch } from '../publish-updates.js';
import { ListFeed } from './list-feed.js';
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

/**
 * Reads a snapshot for the resync. The backplane may be back before the jobs connection is (they
 * reconnect on their own schedules): a read that fails with Redis unavailable is tried again for
 * about 10 s, so one slow reconnect does not cost the watchers their final state.
 */
async function peekPatiently(jobs: JobsService, id: string, route: string | undefined) {
  for (let n = 0; ; n++) {
    try {
      return await jobs.peek(id, route);
    } catch (err) {
      if (n >= 6 || !isSwitchboardError(err, 'SB_BACKPLANE_UNAVAILABLE')) throw err;
      await new Promise((r) => setTimeout(r, 150 * 2 ** n));
    }
  }
}

/**
 * Joins a job's group: routed (no backplane subscription to wait for; the route id returned must
 * be written to the job's record, see watch-routes.ts), or through the group's channel when the
 * hub does not route or nothing does (one node without a bus).
 */
async function join(ctx: Pick<HubCallContext<JobsClient>, 'connectionId' | 'groups'>, group: string, routed: boolean): Promise<string | undefined> {
  const route = routed ? await ctx.groups.addRouted(ctx.connectionId, group) : undefined;
  if (route === undefined) await ctx.groups.add(ctx.connectionId, group);
  return route;
}

export interface JobsHubOptions {
  /**
   * Watchers join routed (watch-routes.ts): no backplane channel per job, one round trip less in
   * `enqueue` with `watch`. Only when every publisher of job updates in the deployment sends them
   * with `publishUpdates` (apps/worker does): a publisher that sends to
   * `clients.group(jobGroup(id))` itself reaches only watchers that joined the group's channel.
   * apps/hub turns it on (JOBS_ROUTED_WATCHING). @defaultValue false
   */
  readonly routedWatching?: boolean;
}

/** Snapshots read from Redis at a time when resyncing after a backplane outage. */
const RESYNC_BATCH = 50;

/**
 * Joins the job's group, then reads its snapshot, so no update falls between the two. A job already
 * over (`endsWatch`: its final update went out, or goes out now) gets nothing more: the caller
 * leaves the group again, the answer being its final state (its group's final send may have come
 * before the join, and would not remove it).
 */
async function joinAndRead(ctx: Pick<HubCallContext<JobsClient>, 'connectionId' | 'groups' | 'user'>, jobs: JobsService, jobId: string, routed: boolean): Promise<JobSnapshot> {
  const group = jobGroup(jobId);
  const route = await join(ctx, group, routed);
  let snapshot: JobSnapshot;
  try {
    // Routed: the node is registered in the record by the same script that reads it. A record that
    // names as many nodes as it takes did not register this one: join through the group's channel
    // (publishers send there too for such a job), then read.
    const watched = route === undefined ? undefined : await jobs.watchVia(jobId, route, ctx.user);
    if (watched?.full) await ctx.groups.add(ctx.connectionId, group);
    snapshot = watched && !watched.full ? watched.snapshot : await jobs.get(jobId, ctx.user);
  } catch (err) {
    await ctx.groups.remove(ctx.connectionId, group);
    throw err;
  }
  if (endsWatch(snapshot)) await ctx.groups.remove(ctx.connectionId, group);
  return snapshot;
}

const NO_REDIS = 'SB_JOBS_UNAVAILABLE: Jobs need Redis: start the hub node with REDIS_URL (or REDIS_CLUSTER_NODES) set, and run workers (switchboard-worker).';

/**
 * The jobs hub, mountable on any HubServer (`hubs.mapHub('/hubs/jobs', createJobsHub(service))`;
 * Switchboard's hub nodes serve it at /hubs/jobs (a job is watched and cancelled only by the user who enqueued it or an
 * admin: JobsService checks, SB_JOB_FORBIDDEN otherwise): `enqueue(name, data)` → { jobId }, `watch(jobId)` → snapshot (and
 * the caller joins the job's group), `unwatch(jobId)`, `cancel(jobId)` → boolean. Client method:
 * `jobUpdated(update)`. `watch` joins before it reads, so no update can fall between the
 * snapshot and the live stream; the client drops anything whose `seq` it has seen. With
 * `routedWatching`, watchers join routed (watch-routes.ts): their node is written into the job's
 * record, and updates come on the node's own channel, with no backplane subscription per job. The operator's
 * view: `jobTypes()`, `list(query)`, `watchList()` (then `jobListChanged` pushes, coalesced),
 * `retry(jobId)`, `remove(jobId)`.
 */
export function createJobsHub(service: JobsService<any> | (() => JobsService<any> | undefined), options: JobsHubOptions = {}) {
  const routed = options.routedWatching === true;
  const current = typeof service === 'function' ? service : () => service;
  // List watchers of this node, pushed at most ~10 times per second (see ListFeed).
  const feed = new ListFeed(() => {
    const jobs = current();
    return jobs && { version: () => jobs.list.version(), counts: (scope) => jobs.list.counts(scope) };
  });
  const need = (): JobsService => {
    const s = current();
    if (!s) throw new HubError(NO_REDIS);
    return s;
  };
  return defineHub<JobsClient>()({
    methods: {
      enqueue: (ctx, name: unknown, data: unknown, options?: unknown) =>
        clientErrors(async () => {
          const jobs = need();
          const opts = options as EnqueueOptions | undefined;
          if (opts?.watch !== true) return jobs.enqueue(name as string, data, opts, ctx.user?.id);
          // Enqueue and watch in one round trip: join the group before the job exists, so no
          // update can come before the caller is in it.
          let joined: string | undefined;
          const result = await jobs
            .enqueue(name as string, data, opts, ctx.user?.id, (jobId) => join(ctx, (joined = jobGroup(jobId)), routed))
            .catch(async (err: unknown) => {
              if (joined) await ctx.groups.remove(ctx.connectionId, joined).catch(() => {});
              throw err;
            });
          // A new job's answer carries the snapshot as written; a duplicate's is read, as `watch` does.
          if (!result.duplicate) return { ...result, snapshot: result.snapshot ?? (await jobs.get(result.jobId, ctx.user)) };
          if (joined) await ctx.groups.remove(ctx.connectionId, joined);
          await jobs.authorize(result.jobId, ctx.user);
          return { ...result, snapshot: await joinAndRead(ctx, jobs, result.jobId, routed) };
        }),
      watch: (ctx, jobId: unknown) =>
        clientErrors(async () => {
          const jobs = need();
          // Ownership first: another user's watch must not join the group even for a moment.
          await jobs.authorize(jobId, ctx.user);
          return joinAndRead(ctx, jobs, jobId as string, routed); // a valid id: authorize checked it
        }),
      unwatch: (ctx, jobId: unknown) =>
        clientErrors(async () => {
          if (typeof jobId !== 'string') throw new HubError('unwatch takes the job id string that enqueue returned.');
          await ctx.groups.remove(ctx.connectionId, jobGroup(jobId));
        }),
      cancel: (ctx, jobId: unknown) => clientErrors(() => need().cancel(jobId, ctx.user)),
      jobTypes: () => clientErrors(async () => need().jobTypes()),
      list: (ctx, query?: unknown) => clientErrors(() => need().listJobs(query ?? {}, ctx.user)),
      watchList: (ctx) =>
        clientErrors(async () => {
          const jobs = need();
          feed.add(ctx.connectionId, { scope: jobs.scopeOf(ctx.user), push: (change) => ctx.clients.caller.jobListChanged(change) });
          return jobs.listCounts(ctx.user);
        }),
      unwatchList: (ctx) => {
        feed.remove(ctx.connectionId);
      },
      retry: (ctx, jobId: unknown) => clientErrors(() => need().retry(jobId, ctx.user)),
      remove: (ctx, jobId: unknown) => clientErrors(() => need().remove(jobId, ctx.user)),
    },
    onDisconnected(ctx) {
      feed.remove(ctx.connectionId);
    },
    // Updates published while this node's backplane was down were lost for its watchers, who
    // stayed connected and so will not watch again: push each watched job's snapshot to this
    // node's watchers (their `seq` check drops it if they had it), so none misses a final state.
    // The node's route is registered again with each read: Redis may have come back without the
    // latest writes (an older snapshot, a failover to a replica that lagged), and a record that
    // no longer names this node would get its watchers nothing more.
    async onBackplaneRestored({ groups, route, localGroup }) {
      const jobs = current();
      if (!jobs) return;
      const ids = groups.map(jobIdOfGroup).filter((id): id is string => id !== undefined);
      for (let i = 0; i < ids.length; i += RESYNC_BATCH) {
        await Promise.all(
          ids.slice(i, i + RESYNC_BATCH).map(async (id) => {
            // A job whose record is gone (Redis came back empty) ends `lost` for its watchers.
            // Registered again only where watchers join routed: a route in the record makes publishers skip the group's channel.
            const snapshot = (await peekPatiently(jobs, id, routed ? route : undefined)) ?? lostUpdate(id);
            await localGroup(jobGroup(id)).jobUpdated(snapshot);
          }),
        );
      }
    },
  });
}
