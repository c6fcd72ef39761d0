import { SwitchboardError } from '@switchboard/protocol';
import type { BackplaneMetrics, Bus } from '@switchboard/hub-server/backplane';
import { silentLogger, type Logger } from '@switchboard/hub-server/backplane';
import type { Cluster, Redis } from 'ioredis';
import { quitClient, reconnectBackoff } from './client-lifecycle.js';
import { Deadlines } from './deadlines.js';
import { SubscriptionQueue } from './subscription-queue.js';
import { isClusterClient, isRedisClient } from './client-shape.js';
import { createRedisClient } from './redis-client.js';
import { describeTarget, type RedisTarget } from './redis-config.js';

/**
 * Counters the bus reports (apps/hub feeds prom-client with them), and the scale-outs over it
 * report `sendArrived` (BackplaneMetrics). Called synchronously, once per message on the hot path:
 * keep implementations to counter increments and histogram observations; they must not throw.
 */
export interface BusMetrics extends BackplaneMetrics {
  /** A publish reached Redis (whether or not anyone listened). */
  published?(bytes: number): void;
  /** A publish failed: Redis unreachable, or the command failed. */
  publishFailed?(): void;
  /** A message arrived on a subscribed channel. */
  received?(bytes: number): void;
  /** A Redis connection reported an error (each error event, of the publisher or subscriber). */
  connectionError?(role: 'publisher' | 'subscriber'): void;
}

export interface RedisBusOptions {
  redis: RedisTarget;
  logger?: Logger;
  /** Counters for publishes, receipts and errors. @defaultValue none */
  metrics?: BusMetrics;
  /** Only publish; never open a subscriber connection until something subscribes. @defaultValue false */
  lazySubscriber?: boolean;
  /**
   * How long operations wait for the first connection at startup. After Redis was reachable
   * once, an outage fails publishes at once instead. @defaultValue 5000
   */
  connectTimeoutMs?: number;
  /**
   * The most a publish waits for Redis's answer; past it the send fails with
   * SB_BACKPLANE_UNAVAILABLE. A Redis that keeps its connections but answers nothing (frozen,
   * overloaded) would otherwise hold every send for as long as it lasts. @defaultValue 2000
   */
  commandTimeoutMs?: number;
  /**
   * The most a subscribe or unsubscribe waits for Redis's answer; past it, it resolves (logged)
   * and completes when Redis answers, so a frozen Redis does not hold a new connection's handshake
   * or a group change forever. Longer than `commandTimeoutMs`: until it passes, an add that
   * resolved means the channel is subscribed, which a slow but working Redis (a loaded Cluster)
   * must keep. @defaultValue 10000
   */
  subscribeTimeoutMs?: number;
}

type Client = Redis | Cluster;
type Corkable = { cork(): void; uncork(): void };

/**
 * The Bus over Redis pub/sub. Standalone Redis (and the master of a Sentinel group) uses PUBLISH/SUBSCRIBE; a Redis Cluster uses
 * sharded pub/sub (SPUBLISH/SSUBSCRIBE), so each channel lives on the shard of its slot.
 *
 * Two connections: a publisher and a subscriber. Publishes fail at once when the publisher is not
 * ready (no offline queue: a send during an outage errors instead of arriving minutes later).
 * The set of wanted channels is kept here; after every reconnect of the subscriber it is
 * subscribed again in full, so no restart is needed when Redis returns.
 */
export class RedisBus implements Bus {
  private readonly pub: Client;
  private sub: Client | undefined;
  private readonly sharded: boolean;
  private readonly ownsPub: boolean;
  private readonly wanted = new Set<string>();
  private readonly listeners = new Set<(channel: string, payload: Uint8Array) => void>();
  private readonly restoredListeners = new Set<() => void>();
  private readonly logger: Logger;
  /** (Un)subscriptions in call order, batched per kind (subscription-queue.ts). */
  private readonly subscriptions: SubscriptionQueue;
  private closed = false;
  /** The publisher's and subscriber's sockets while corked until the next tick. */
  private readonly corked = new Set<Corkable>();
  private wasDown = false;
  private readonly pubReady: Promise<boolean>;
  private subReady: Promise<boolean> | undefined;
  /** Removes the listeners this bus put on the publisher (a caller-owned client outlives the bus). */
  private readonly detachPub: () => void;

  private readonly commandTimeoutMs: number;
  private readonly subscribeTimeoutMs: number;
  /** The bound of every publish, one timer for all (a timer per send cost a part of every send's CPU). */
  private readonly publishDeadlines: Deadlines;

  constructor(private readonly options: RedisBusOptions) {
    this.logger = options.logger ?? silentLogger;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 2000;
    this.subscribeTimeoutMs = options.subscribeTimeoutMs ?? 10_000;
    const commandTimeoutMs = this.commandTimeoutMs;
    this.publishDeadlines = new Deadlines(commandTimeoutMs, () => new Error(`no answer within ${commandTimeoutMs} ms: Redis is frozen or overloaded`));
    const bus = this;
    this.subscriptions = new SubscriptionQueue({
      logger: this.logger,
      subscribeTimeoutMs: this.subscribeTimeoutMs,
      get sharded() {
        return bus.sharded;
      },
      wanted: this.wanted,
      isClosed: () => this.closed,
      subscriber: () => this.subscriber(),
      subscriberReady: () => this.subReady,
      corkUntilNextTick: (sub) => this.corkUntilNextTick((sub as Redis).stream),
    });
    const target = options.redis;
    // A caller's client is used as it is (and stays the caller's). The master of a Sentinel group is
    // used like a standalone Redis (plain PUBLISH/SUBSCRIBE): after a failover both connections find
    // the new master through the sentinels, and the subscriber's 'ready' below restores the
    // channels and fires onRestored, as after any outage. A Cluster uses sharded pub/sub.
    this.pub = isRedisClient(target)
      ? target
      : createRedisClient(target, {
          redis: { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: reconnectBackoff, lazyConnect: false },
          cluster: { enableOfflineQueue: false, clusterRetryStrategy: reconnectBackoff, redisOptions: { maxRetriesPerRequest: 1 } },
        });
    this.ownsPub = this.pub !== target;
    this.sharded = isClusterClient(this.pub);
    const onPubError = (err: Error) => this.onError('publisher', err);
    const onPubReady = () => {
      if (this.wasDown) this.logger.info({ redis: describeTarget(target) }, 'backplane: Redis is reachable again');
      this.wasDown = false;
    };
    const onPubDown = () => (this.wasDown = true);
    this.pub.on('error', onPubError).on('ready', onPubReady).on('end', onPubDown).on('close', onPubDown);
    this.detachPub = () => this.pub.off('error', onPubError).off('ready', onPubReady).off('end', onPubDown).off('close', onPubDown);
    this.pubReady = firstReady(this.pub, options.connectTimeoutMs ?? 5000);
    if (!options.lazySubscriber) this.subscriber();
  }

  get connected(): boolean {
    return this.pub.status === 'ready';
  }

  private onError(role: 'publisher' | 'subscriber', err: Error): void {
    this.options.metrics?.connectionError?.(role);
    if (!this.wasDown) this.logger.warn({ role, error: err.message }, 'backplane: Redis connection error; reconnecting');
    this.wasDown = true;
  }

  private subscriber(): Client {
    if (this.sub) return this.sub;
    const sub: Client =
      isClusterClient(this.pub)
        ? this.pub.duplicate(undefined, { shardedSubscribers: true, clusterRetryStrategy: reconnectBackoff })
        : this.pub.duplicate({ autoResubscribe: false, enableOfflineQueue: true, maxRetriesPerRequest: null, retryStrategy: reconnectBackoff });
    sub.on('error', (err: Error) => this.onError('subscriber', err));
    const onMessage = (channel: Buffer, message: Buffer) => {
      this.options.metrics?.received?.(message.length);
      const name = channel.toString();
      for (const l of this.listeners) l(name, message);
    };
    sub.on(this.sharded ? 'smessageBuffer' : 'messageBuffer', onMessage);
    this.subReady = firstReady(sub, this.options.connectTimeoutMs ?? 5000);
    let readyBefore = false;
    sub.on('ready', () => {
      const again = readyBefore;
      readyBefore = true;
      if (this.closed) return;
      // Cluster: ioredis resubscribes the sharded channels itself. Standalone: restore every wanted
      // channel after each reconnect (autoResubscribe is off so channels dropped during the
      // outage are not brought back), then tell listeners what they may have missed.
      if (this.sharded || !this.wanted.size) {
        if (again) this.restored();
        return;
      }
      const channels = [...this.wanted];
      (sub as Redis).subscribe(...channels).then(
        () => {
          this.logger.info({ channels: channels.length }, 'backplane: subscriptions restored');
          if (again) this.restored();
        },
        (err: Error) => this.logger.error({ error: err.message }, 'backplane: restoring subscriptions failed'),
      );
    });
    this.sub = sub;
    return sub;
  }

  /**
   * Not `async`, and one promise chain per send (the bound's, then the answer's): every message a
   * worker sends comes through here. Only a publisher not yet ready takes the slower path.
   */
  publish(channel: string, payload: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', 'The Redis backplane is closed.'));
    if (this.pub.status !== 'ready') return this.publishWhenReady(channel, payload);
    return this.publishNow(channel, payload);
  }

  /** Startup: waits for the first connection (bounded by connectTimeoutMs); afterwards an outage fails at once. */
  private async publishWhenReady(channel: string, payload: Uint8Array): Promise<number> {
    await this.pubReady;
    if (this.pub.status !== 'ready') {
      this.options.metrics?.publishFailed?.();
      throw new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', `Redis is unreachable (${this.pub.status}); the message did not reach other hub nodes. Nodes reconnect by themselves when Redis returns.`);
    }
    return this.publishNow(channel, payload);
  }

  private publishNow(channel: string, payload: Uint8Array): Promise<number> {
    const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    let sent: Promise<unknown>;
    try {
      if (!this.sharded) this.corkUntilNextTick((this.pub as Redis).stream);
      sent = this.sharded ? (this.pub as Cluster).spublish(channel, buf) : (this.pub as Redis).publish(channel, buf);
    } catch (err) {
      return Promise.reject(this.publishFailed(err));
    }
    // Past the bound the send fails; the command settles later (or fails with the connection) and nobody waits for it.
    return this.publishDeadlines.bound(sent).then(
      (answer) => {
        this.options.metrics?.published?.(buf.length);
        return Number(answer);
      },
      (err: unknown) => {
        throw this.publishFailed(err);
      },
    );
  }

  private publishFailed(err: unknown): SwitchboardError {
    this.options.metrics?.publishFailed?.();
    return new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', `Publishing to Redis failed (${(err as Error).message}); the message did not reach other hub nodes.`, { cause: err });
  }

  /**
   * Subscribers of `channel` now, without publishing. Standalone: PUBSUB NUMSUB (the count
   * PUBLISH returns). Cluster: a sharded channel's subscribers are on the nodes of its slot, and
   * SHARDNUMSUB counts only the node asked (ioredis routes PUBSUB to any node), so every node is
   * asked and the answers summed. Rare (hub contexts probe once per a few seconds at most).
   */
  async subscribers(channel: string): Promise<number> {
    if (this.closed) throw new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', 'The Redis backplane is closed.');
    if (this.pub.status !== 'ready') await this.pubReady;
    if (this.pub.status !== 'ready') throw new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', `Redis is unreachable (${this.pub.status}); cannot count the subscribers of a channel.`);
    const count = (reply: unknown) => Number((reply as unknown[])[1] ?? 0);
    try {
      if (!this.sharded) return count(await (this.pub as Redis).call('PUBSUB', 'NUMSUB', channel));
      const replies = await Promise.all((this.pub as Cluster).nodes('all').map((node) => node.call('PUBSUB', 'SHARDNUMSUB', channel)));
      return replies.reduce<number>((sum, reply) => sum + count(reply), 0);
    } catch (err) {
      throw new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', `Counting the subscribers of a channel failed (${(err as Error).message}).`, { cause: err });
    }
  }

  /**
   * Publishes issued in one turn of the event loop leave in one write (as do (un)subscriptions, on
   * the subscriber's socket): the socket is corked at the first and uncorked on the next tick (a
   * worker sending a burst makes one syscall, not one per message; order is unchanged). Cheaper
   * than ioredis' auto-pipelining, which costs more than it saves when sends come one at a time.
   */
  private corkUntilNextTick(stream: Corkable | undefined): void {
    if (!stream || this.corked.has(stream)) return;
    this.corked.add(stream);
    stream.cork();
    process.nextTick(() => {
      this.corked.delete(stream);
      stream.uncork();
    });
  }

  subscribe(channel: string): Promise<void> {
    if (this.closed || this.wanted.has(channel)) return Promise.resolve();
    this.wanted.add(channel);
    return this.subscriptions.enqueue(channel, true);
  }

  unsubscribe(channel: string): Promise<void> {
    if (this.closed || !this.wanted.delete(channel)) return Promise.resolve();
    return this.subscriptions.enqueue(channel, false);
  }

  /** Resolves when the subscriber connection is up (or the connect timeout passed). */
  async ready(): Promise<boolean> {
    const [p, s] = await Promise.all([this.pubReady, this.subscriber() && this.subReady]);
    return p && s === true;
  }

  onMessage(listener: (channel: string, payload: Uint8Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onRestored(listener: () => void): () => void {
    this.restoredListeners.add(listener);
    return () => this.restoredListeners.delete(listener);
  }

  /** The subscriber is back after an outage with its channels subscribed: messages of the gap are lost. */
  private restored(): void {
    if (this.closed) return;
    this.logger.info({ listeners: this.restoredListeners.size }, 'backplane: back after an outage; hubs re-read what they may have missed');
    for (const l of this.restoredListeners) {
      try {
        l();
      } catch (err) {
        this.logger.error({ error: (err as Error).message }, 'backplane: a restore listener threw');
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.restoredListeners.clear();
    if (this.sub) await quitClient(this.sub);
    if (this.ownsPub) await quitClient(this.pub);
    else this.detachPub();
  }
}

/**
 * Resolves true on the client's first 'ready', false after `timeoutMs` without one. Used only
 * for startup: later outages fail fast instead of waiting.
 */
function firstReady(client: Client, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    timer.unref();
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    client.once('ready', onReady);
  });
}
