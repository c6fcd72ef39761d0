import { SwitchboardError } from '@switchboard/protocol';
import { LocalConnectionStore } from './local-connections.js';
import type { LocalConnection, OutboundMessage, ScaleOut } from './scaleout.js';

/** The single-node scale-out: every target is resolved against this node's connections. */
export class MemoryScaleOut implements ScaleOut {
  readonly local = new LocalConnectionStore();

  async onConnected(connection: LocalConnection): Promise<void> {
    this.local.add(connection);
  }

  async onDisconnected(connection: LocalConnection): Promise<void> {
    this.local.remove(connection);
  }

  async sendAll(message: OutboundMessage, excluded?: readonly string[]): Promise<void> {
    this.local.writeAll(message, excluded);
  }

  async sendConnection(connectionId: string, message: OutboundMessage): Promise<void> {
    this.local.writeConnection(connectionId, message);
  }

  async sendConnections(connectionIds: readonly string[], message: OutboundMessage): Promise<void> {
    for (const id of new Set(connectionIds)) this.local.writeConnection(id, message);
  }

  async sendGroup(group: string, message: OutboundMessage, excluded?: readonly string[]): Promise<void> {
    this.local.writeGroup(group, message, excluded);
  }

  async sendGroups(groups: readonly string[], message: OutboundMessage): Promise<void> {
    for (const g of new Set(groups)) this.local.writeGroup(g, message);
  }

  async sendGroupFinal(group: string, message: OutboundMessage): Promise<void> {
    this.local.writeGroup(group, message);
    this.local.clearGroup(group);
  }

  async groupCount(group: string): Promise<number> {
    return this.local.groupSize(group);
  }

  async sendUser(userId: string, message: OutboundMessage): Promise<void> {
    this.local.writeUser(userId, message);
  }

  async sendUsers(userIds: readonly string[], message: OutboundMessage): Promise<void> {
    for (const u of new Set(userIds)) this.local.writeUser(u, message);
  }

  async addToGroup(connectionId: string, group: string): Promise<void> {
    this.local.addToGroup(this.require(connectionId), group);
  }

  async removeFromGroup(connectionId: string, group: string): Promise<void> {
    this.local.removeFromGroup(this.require(connectionId), group);
  }

  invokeConnection(connectionId: string, target: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    try {
      return this.require(connectionId).invokeClient(target, args, timeoutMs);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async close(): Promise<void> {}

  private require(connectionId: string): LocalConnection {
    const c = this.local.get(connectionId);
    if (!c) throw new SwitchboardError('SB_CONNECTION_NOT_FOUND', `Connection '${connectionId}' does not exist. It may have disconnected; check the id the client reported.`);
    return c;
  }
}
