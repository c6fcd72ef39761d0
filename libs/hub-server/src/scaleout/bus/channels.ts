/**
 * Every backplane channel name, from one place. `P` = prefix + hub name, e.g. `sb:chat`.
 *
 * | channel | carries | subscribed by |
 * |---|---|---|
 * | `P:all` | sends to all (and all-except) | every hub node, always |
 * | `P:group:{name}` | sends to a group | nodes holding a member |
 * | `P:user:{id}` | sends to a user | nodes holding a connection of that user |
 * | `P:connection:{id}` | sends, group commands, client-result calls and forwarded HTTP transport requests for one connection | the node holding it |
 * | `P:internal:return:{serverId}` | replies (group acks, client results) to one node or publisher | that node/publisher |
 * | `P:node:{serverId}` | sends to routed groups (`sendGroupVia`) with members on that node | that node, from its first routed member |
 */
export class BackplaneChannels {
  readonly prefix: string;
  readonly all: string;

  constructor(prefix: string, hubName: string) {
    this.prefix = `${prefix}${hubName}`;
    this.all = `${this.prefix}:all`;
  }

  group(name: string): string {
    return `${this.prefix}:group:${name}`;
  }

  user(id: string): string {
    return `${this.prefix}:user:${id}`;
  }

  connection(id: string): string {
    return `${this.prefix}:connection:${id}`;
  }

  node(serverId: string): string {
    return `${this.prefix}:node:${serverId}`;
  }

  returns(serverId: string): string {
    return `${this.prefix}:internal:return:${serverId}`;
  }

  /** Whether a channel belongs to this hub (several hubs share one bus). */
  owns(channel: string): boolean {
    return channel.startsWith(`${this.prefix}:`);
  }
}

/** Default channel prefix; configurable so several deployments can share one Redis. */
export const DEFAULT_CHANNEL_PREFIX = 'sb:';
