import { SwitchboardError } from '@switchboard/protocol';

/**
 * Routed watching: a hub node whose connection watches a job joins the job's group without a
 * backplane subscription (`GroupManager.addRouted`) and writes its route id into the job's record
 * (`_w`, space-separated, the most recent last; see MAX_ROUTES for a full record). Whoever writes an update
 * reads the record's routes in the same script and sends through those nodes' own channels
 * (`HubClients.groupVia`). Registering and reading happen atomically with the record's writes,
 * so an update written after a node registered always names it, and one written before is in
 * the snapshot the registration answers: nothing falls between, with no subscribe to wait for.
 *
 * The routes travel with the snapshot objects JobStore returns (kept here, not as a field, so
 * nothing of them reaches clients) to `publishUpdates`.
 */
const routes = new WeakMap<object, readonly string[]>();

/**
 * Route ids a record takes. A node coming after that many (node restarts get new ids, and a
 * gone node's id stays) is not listed: the record gets the marker OVERFLOW, the node's watchers
 * join through the group's channel, and publishers send there too. No watcher is ever dropped.
 */
export const MAX_ROUTES = 32;
/** In `_w`: some watchers of this job are reached only through the group's channel. */
export const OVERFLOW = '*';

/** A route id as stored (`_w` is space-separated): SB_CONFIG_INVALID for one with white space or none. */
export function checkRoute(route: string): string {
  if (!/^\S{1,200}$/.test(route)) throw new SwitchboardError('SB_CONFIG_INVALID', `A hub node's route id must be 1-200 characters without white space, got ${JSON.stringify(route)}: check the node's serverId.`);
  return route;
}

/** Remembers the routes of a record read from Redis with its snapshot (`_w` of the hash). */
export function attachRoutes<T extends object>(snapshot: T, field: string | undefined): T {
  if (field) routes.set(snapshot, field.split(' '));
  return snapshot;
}

/** The hub nodes with routed watchers of the job this snapshot came from; undefined when none registered (legacy watchers only). */
export function routesOf(snapshot: object): readonly string[] | undefined {
  return routes.get(snapshot);
}
