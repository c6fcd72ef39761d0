import { OutboundMessage, type ScaleOut } from '../scaleout/scaleout.js';

/**
 * A client interface: the methods the server may call on connected clients. Any object type
 * (interfaces included); members that are not functions cannot be called.
 */
export type ClientMethods = object;

/** The argument list of client method `K`. */
export type ClientArgs<C, K extends keyof C> = C[K] extends (...args: infer A) => unknown ? A : never;
/** The value a client-result call to `K` resolves with. */
export type ClientResult<C, K extends keyof C> = C[K] extends (...args: never[]) => infer R ? Awaited<R> : never;

/** A typed proxy of the client interface: each call sends an invocation to the target. */
export type ClientProxy<C extends ClientMethods> = {
  readonly [K in keyof C]: (...args: ClientArgs<C, K>) => Promise<void>;
};

/** Targets reachable from anywhere (a hub method, an HTTP handler, a background task). */
export interface HubClients<C extends ClientMethods> {
  readonly all: ClientProxy<C>;
  allExcept(connectionIds: readonly string[]): ClientProxy<C>;
  client(connectionId: string): ClientProxy<C>;
  clients(connectionIds: readonly string[]): ClientProxy<C>;
  group(name: string): ClientProxy<C>;
  groups(names: readonly string[]): ClientProxy<C>;
  groupExcept(name: string, excludedConnectionIds: readonly string[]): ClientProxy<C>;
  /**
   * The group's last message: sent like `group(name)`, then every node removes the group's members
   * (after writing it to them), so nobody stays in a group that will get nothing more, such as a
   * finished job's watchers. Connections that join it afterwards are members as usual.
   */
  groupFinal(name: string): ClientProxy<C>;
  /**
   * A routed group's send (see `GroupManager.addRouted`): to the members on the nodes whose route
   * ids are in `nodes`, through each node's own channel, and to the sending node's own members;
   * `final` as in `groupFinal`. For
   * publishers that store their watchers' route ids (the jobs pipeline); with no ids it sends like
   * `group(name)` (or `groupFinal`), reaching members that joined with `add`.
   */
  groupVia(name: string, nodes: readonly string[], final?: boolean): ClientProxy<C>;
  user(userId: string): ClientProxy<C>;
  users(userIds: readonly string[]): ClientProxy<C>;
  /**
   * Client result: invokes `method` on one connection (on any node) and resolves with what the
   * client's handler returned; rejects with the client's error text or on timeout.
   */
  invoke<K extends keyof C & string>(connectionId: string, method: K, ...args: ClientArgs<C, K>): Promise<ClientResult<C, K>>;
}

/** Targets relative to the calling connection, available inside hub methods. */
export interface CallerClients<C extends ClientMethods> extends HubClients<C> {
  readonly caller: ClientProxy<C>;
  readonly others: ClientProxy<C>;
  othersInGroup(name: string): ClientProxy<C>;
}

/** Group membership changes; the connection may live on any node. */
export interface GroupManager {
  add(connectionId: string, group: string): Promise<void>;
  /**
   * Adds a connection of this node to `group` without subscribing the group's channel on the
   * backplane, and resolves with this node's route id: sends reach it only through
   * `clients.groupVia(group, ids)` naming that id, so the publisher must learn it (the jobs hub
   * stores it in the job's record). One backplane round trip fewer than `add`, and no channel per
   * group. Resolves undefined when the connection is on another node or nothing routes (one
   * node): use `add` then. Routed members are not counted by `count`.
   */
  addRouted(connectionId: string, group: string): Promise<string | undefined>;
  remove(connectionId: string, group: string): Promise<void>;
  /** Members of the group on every node (each node holding members answers over the backplane); 0 when none. */
  count(group: string): Promise<number>;
}

type Send = (message: OutboundMessage) => Promise<void>;

/** Builds a proxy whose every property is a sender for that client method name. */
export function clientProxy<C extends ClientMethods>(send: Send): ClientProxy<C> {
  const cache = new Map<string, (...args: unknown[]) => Promise<void>>();
  return new Proxy({} as ClientProxy<C>, {
    get(_target, prop) {
      // `then` must stay undefined so a proxy is not mistaken for a promise by `await`.
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      let fn = cache.get(prop);
      if (!fn) {
        fn = (...args: unknown[]) => send(OutboundMessage.invocation(prop, args));
        cache.set(prop, fn);
      }
      return fn;
    },
  });
}

export function hubClients<C extends ClientMethods>(scaleOut: ScaleOut, clientResultTimeoutMs: number): HubClients<C> {
  return {
    all: clientProxy<C>((m) => scaleOut.sendAll(m)),
    allExcept: (ids) => clientProxy<C>((m) => scaleOut.sendAll(m, ids)),
    client: (id) => clientProxy<C>((m) => scaleOut.sendConnection(id, m)),
    clients: (ids) => clientProxy<C>((m) => scaleOut.sendConnections(ids, m)),
    group: (name) => clientProxy<C>((m) => scaleOut.sendGroup(name, m)),
    groups: (names) => clientProxy<C>((m) => scaleOut.sendGroups(names, m)),
    groupExcept: (name, ids) => clientProxy<C>((m) => scaleOut.sendGroup(name, m, ids)),
    groupFinal: (name) => clientProxy<C>((m) => (scaleOut.sendGroupFinal ? scaleOut.sendGroupFinal(name, m) : scaleOut.sendGroup(name, m))),
    groupVia: (name, nodes, final = false) =>
      clientProxy<C>((m) => {
        if (nodes.length && scaleOut.sendGroupVia) return scaleOut.sendGroupVia(nodes, name, m, final);
        return final && scaleOut.sendGroupFinal ? scaleOut.sendGroupFinal(name, m) : scaleOut.sendGroup(name, m);
      }),
    user: (id) => clientProxy<C>((m) => scaleOut.sendUser(id, m)),
    users: (ids) => clientProxy<C>((m) => scaleOut.sendUsers(ids, m)),
    invoke: (connectionId, method, ...args) =>
      scaleOut.invokeConnection(connectionId, method, args, clientResultTimeoutMs) as Promise<never>,
  };
}

export function callerClients<C extends ClientMethods>(base: HubClients<C>, scaleOut: ScaleOut, connectionId: string): CallerClients<C> {
  const self = [connectionId];
  return {
    ...base,
    caller: clientProxy<C>((m) => scaleOut.sendConnection(connectionId, m)),
    others: clientProxy<C>((m) => scaleOut.sendAll(m, self)),
    othersInGroup: (name) => clientProxy<C>((m) => scaleOut.sendGroup(name, m, self)),
  };
}

export function groupManager(scaleOut: ScaleOut): GroupManager {
  return {
    add: (connectionId, group) => scaleOut.addToGroup(connectionId, group),
    addRouted: async (connectionId, group) => scaleOut.addToGroupRouted?.(connectionId, group),
    remove: (connectionId, group) => scaleOut.removeFromGroup(connectionId, group),
    count: (group) => scaleOut.groupCount(group),
  };
}
