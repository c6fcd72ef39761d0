import type { IncomingMessage } from 'node:http';
import { HubError, defineHub, type HubUser } from '@switchboard/hub-server';
import { isSwitchboardError } from '@switchboard/protocol';

/** What the contract hub calls on its clients. */
export interface ContractClient {
  Receive(tag: string): void;
  /** A client result: the client answers a question (see the suite for its handler). */
  Answer(question: string): string;
}

/** The path every contract node mounts the hub at. */
export const CONTRACT_HUB_PATH = '/hubs/contract';

/**
 * TEST ONLY: the user is whatever the `user` query parameter says. Never authenticate like this
 * outside tests; it lets the suite put one user on several nodes without a token service.
 */
export function contractAuthenticate(req: IncomingMessage): HubUser | undefined {
  const user = new URL(req.url ?? '/', 'http://localhost').searchParams.get('user');
  return user ? { id: user } : undefined;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new HubError(`${what} must be a string.`);
  return value;
}

function strs(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new HubError(`${what} must be an array of strings.`);
  return value as string[];
}

/**
 * Scale-out errors reach the client as `HubException: <code>: <message>`, so the suite can assert
 * on the code (the default error text hides non-HubError details).
 */
async function surfaced<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof HubError) throw err;
    const code = isSwitchboardError(err) ? `${err.code}: ` : '';
    throw new HubError(`${code}${(err as Error).message}`, { cause: err });
  }
}

/** One server method per send target and group operation of the scale-out. */
export const contractHub = defineHub<ContractClient>()({
  methods: {
    /** Who the caller is and which node (Host header) holds it. */
    WhoAmI: (ctx) => ({ connectionId: ctx.connectionId, user: ctx.user?.id ?? null, node: ctx.request.headers.host ?? null, protocol: ctx.protocol }),
    Join: (ctx, group: unknown) => surfaced(() => ctx.groups.add(ctx.connectionId, str(group, 'group'))),
    Leave: (ctx, group: unknown) => surfaced(() => ctx.groups.remove(ctx.connectionId, str(group, 'group'))),
    /** Routed membership where the scale-out routes (its route id), else `add` (null): what the jobs hub does. */
    JoinRouted: (ctx, group: unknown) =>
      surfaced(async () => {
        const route = await ctx.groups.addRouted(ctx.connectionId, str(group, 'group'));
        if (route === undefined) await ctx.groups.add(ctx.connectionId, str(group, 'group'));
        return route ?? null;
      }),
    ToGroupVia: (ctx, group: unknown, routes: unknown, tag: unknown, final: unknown) =>
      surfaced(() => ctx.clients.groupVia(str(group, 'group'), strs(routes, 'routes'), final === true).Receive(str(tag, 'tag'))),
    CountMembers: (ctx, group: unknown) => surfaced(() => ctx.groups.count(str(group, 'group'))),
    AddOther: (ctx, connectionId: unknown, group: unknown) => surfaced(() => ctx.groups.add(str(connectionId, 'connectionId'), str(group, 'group'))),
    RemoveOther: (ctx, connectionId: unknown, group: unknown) =>
      surfaced(() => ctx.groups.remove(str(connectionId, 'connectionId'), str(group, 'group'))),
    ToAll: (ctx, tag: unknown) => surfaced(() => ctx.clients.all.Receive(str(tag, 'tag'))),
    ToAllExcept: (ctx, ids: unknown, tag: unknown) => surfaced(() => ctx.clients.allExcept(strs(ids, 'ids')).Receive(str(tag, 'tag'))),
    ToClient: (ctx, id: unknown, tag: unknown) => surfaced(() => ctx.clients.client(str(id, 'id')).Receive(str(tag, 'tag'))),
    ToClients: (ctx, ids: unknown, tag: unknown) => surfaced(() => ctx.clients.clients(strs(ids, 'ids')).Receive(str(tag, 'tag'))),
    ToGroup: (ctx, group: unknown, tag: unknown) => surfaced(() => ctx.clients.group(str(group, 'group')).Receive(str(tag, 'tag'))),
    ToGroups: (ctx, groups: unknown, tag: unknown) => surfaced(() => ctx.clients.groups(strs(groups, 'groups')).Receive(str(tag, 'tag'))),
    ToGroupExcept: (ctx, group: unknown, ids: unknown, tag: unknown) =>
      surfaced(() => ctx.clients.groupExcept(str(group, 'group'), strs(ids, 'ids')).Receive(str(tag, 'tag'))),
    ToUser: (ctx, user: unknown, tag: unknown) => surfaced(() => ctx.clients.user(str(user, 'user')).Receive(str(tag, 'tag'))),
    ToUsers: (ctx, users: unknown, tag: unknown) => surfaced(() => ctx.clients.users(strs(users, 'users')).Receive(str(tag, 'tag'))),
    ToOthers: (ctx, tag: unknown) => surfaced(() => ctx.clients.others.Receive(str(tag, 'tag'))),
    ToCaller: (ctx, tag: unknown) => surfaced(() => ctx.clients.caller.Receive(str(tag, 'tag'))),
    ToOthersInGroup: (ctx, group: unknown, tag: unknown) => surfaced(() => ctx.clients.othersInGroup(str(group, 'group')).Receive(str(tag, 'tag'))),
    /** `count` sends to one connection, started back to back (order check): `${prefix}0`, `${prefix}1`, ... */
    ToClientBurst: (ctx, id: unknown, prefix: unknown, count: unknown) =>
      surfaced(async () => {
        if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1000) throw new HubError('count must be an integer from 1 to 1000.');
        const target = ctx.clients.client(str(id, 'id'));
        const p = str(prefix, 'prefix');
        await Promise.all(Array.from({ length: count }, (_, i) => target.Receive(`${p}${i}`)));
      }),
    /** The process id of the node running this method: the node that holds the caller's connection. */
    NodePid: () => process.pid,
    /** A server-to-client stream: 0, 1, ..., n - 1. */
    Count: async function* (ctx, n: unknown) {
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 1000) throw new HubError('n must be an integer from 0 to 1000.');
      for (let i = 0; i < n && !ctx.signal.aborted; i++) yield i;
    },
    /** Client result from any connection, on any node. */
    Ask: (ctx, connectionId: unknown, question: unknown) => surfaced(() => ctx.clients.invoke(str(connectionId, 'connectionId'), 'Answer', str(question, 'question'))),
  },
});
