import type { JobsClient, JobState, JobUpdate } from '@switchboard/contracts';
import type { ClientProxy } from '@switchboard/hub-server';
import { jobGroup } from './keys.js';
import { OVERFLOW, routesOf } from './watch-routes.js';

/** After these a job's watchers get nothing more. Not `failed`: an operator may retry the job, and its watchers see that. */
const WATCH_ENDING: ReadonlySet<JobState> = new Set(['completed', 'cancelled', 'lost']);

/** Whether `update` is the last its job's watchers can get (`completed`, `cancelled`, `lost`). */
export function endsWatch(update: { readonly state: JobState }): boolean {
  return WATCH_ENDING.has(update.state);
}

/** The client targets updates go through: a hub context's `clients` (workers), a jobs endpoint's `clients` (hub nodes). */
export interface JobUpdateTargets {
  group(name: string): ClientProxy<JobsClient>;
  groupFinal(name: string): ClientProxy<JobsClient>;
  /** Routed watchers' send (see watch-routes.ts); without it, every update goes to the group's channel. */
  groupVia?(name: string, nodes: readonly string[], final?: boolean): ClientProxy<JobsClient>;
}

/**
 * The `publish` option of `JobsService` and `JobsWorker`: each update to its job's watchers (the
 * `jobGroup`). The last one (`endsWatch`) is the group's final send: every hub node writes it to
 * its watchers, then removes them from the group, so a connection does not stay subscribed to
 * every job it ever watched until it disconnects (`watch` again re-joins, and answers the final
 * snapshot). A snapshot read with its job's routes (JobStore) goes through the hub nodes named
 * there (watch-routes.ts); one without (a job whose watchers all joined the group's channel, such
 * as one enqueued by an earlier build) goes to the group's channel.
 */
export function publishUpdates(clients: JobUpdateTargets): (update: JobUpdate) => Promise<void> {
  return (update) => {
    const group = jobGroup(update.jobId);
    const nodes = routesOf(update);
    const channel = () => (endsWatch(update) ? clients.groupFinal(group) : clients.group(group)).jobUpdated(update);
    if (!nodes || !clients.groupVia) return channel();
    // The marker comes first when more nodes watch than the record takes: the rest listen on the
    // group's channel. Checked before anything is copied (this runs for every update).
    if (nodes[0] !== OVERFLOW) return clients.groupVia(group, nodes, endsWatch(update)).jobUpdated(update);
    return Promise.all([clients.groupVia(group, nodes.slice(1), endsWatch(update)).jobUpdated(update), channel()]).then(() => {});
  };
}
