import type { LocalConnection, OutboundMessage } from './scaleout.js';

/**
 * The connections one node holds, indexed by id, group and user. Every scale-out implementation
 * uses it for the local half of a send. Group names are case-sensitive.
 */
export class LocalConnectionStore {
  readonly byId = new Map<string, LocalConnection>();
  private readonly groups = new Map<string, Set<LocalConnection>>();
  /** The groups of each connection in at least one: the name itself while it is in one (most are), a Set beyond. */
  private readonly groupsOf = new Map<string, string | Set<string>>();
  private readonly users = new Map<string, Set<LocalConnection>>();

  add(connection: LocalConnection): void {
    this.byId.set(connection.connectionId, connection);
    if (connection.userId !== undefined) addTo(this.users, connection.userId, connection);
  }

  /** Removes the connection and returns the groups it was in (so subscriptions can be dropped). */
  remove(connection: LocalConnection): string[] {
    if (this.byId.get(connection.connectionId) !== connection) return [];
    this.byId.delete(connection.connectionId);
    if (connection.userId !== undefined) removeFrom(this.users, connection.userId, connection);
    const of = this.groupsOf.get(connection.connectionId);
    const groups = of === undefined ? [] : typeof of === 'string' ? [of] : [...of];
    for (const g of groups) removeFrom(this.groups, g, connection);
    this.groupsOf.delete(connection.connectionId);
    return groups;
  }

  get(connectionId: string): LocalConnection | undefined {
    return this.byId.get(connectionId);
  }

  /** Returns true when this was the group's first local member. */
  addToGroup(connection: LocalConnection, group: string): boolean {
    const first = !this.groups.has(group);
    addTo(this.groups, group, connection);
    const of = this.groupsOf.get(connection.connectionId);
    if (of === undefined) this.groupsOf.set(connection.connectionId, group);
    else if (typeof of !== 'string') of.add(group);
    else if (of !== group) this.groupsOf.set(connection.connectionId, new Set([of, group]));
    return first;
  }

  /** Returns true when the group has no local members left. */
  removeFromGroup(connection: LocalConnection, group: string): boolean {
    removeFrom(this.groups, group, connection);
    this.leave(connection.connectionId, group);
    return !this.groups.has(group);
  }

  /** Removes every local member of the group; returns true when it had any. */
  clearGroup(group: string): boolean {
    const members = this.groups.get(group);
    if (!members) return false;
    this.groups.delete(group);
    for (const c of members) this.leave(c.connectionId, group);
    return true;
  }

  private leave(connectionId: string, group: string): void {
    const of = this.groupsOf.get(connectionId);
    if (of === group) this.groupsOf.delete(connectionId);
    else if (of !== undefined && typeof of !== 'string') of.delete(group);
  }

  hasGroup(group: string): boolean {
    return this.groups.has(group);
  }

  /** The groups with at least one member here. */
  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  hasUser(userId: string): boolean {
    return this.users.has(userId);
  }

  groupSize(group: string): number {
    return this.groups.get(group)?.size ?? 0;
  }

  get size(): number {
    return this.byId.size;
  }

  writeAll(message: OutboundMessage, excluded?: readonly string[]): void {
    writeEach(this.byId.values(), message, excluded);
  }

  writeGroup(group: string, message: OutboundMessage, excluded?: readonly string[]): void {
    const members = this.groups.get(group);
    if (members) writeEach(members, message, excluded);
  }

  writeUser(userId: string, message: OutboundMessage): void {
    const conns = this.users.get(userId);
    if (conns) writeEach(conns, message, undefined);
  }

  writeConnection(connectionId: string, message: OutboundMessage): boolean {
    const c = this.byId.get(connectionId);
    if (!c) return false;
    c.writeFramed(message.framed(c.protocol));
    return true;
  }
}

function writeEach(conns: Iterable<LocalConnection>, message: OutboundMessage, excluded: readonly string[] | undefined): void {
  const skip = excluded && excluded.length ? new Set(excluded) : undefined;
  for (const c of conns) {
    if (skip?.has(c.connectionId)) continue;
    c.writeFramed(message.framed(c.protocol));
  }
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
