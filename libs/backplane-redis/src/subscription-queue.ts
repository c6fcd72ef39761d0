import type { Logger } from '@switchboard/hub-server/backplane';
import type { Cluster, Redis } from 'ioredis';
import { LATE, withinMs } from './client-lifecycle.js';

type Client = Redis | Cluster;

/** Channels one SUBSCRIBE or UNSUBSCRIBE names at most (a burst of thousands goes in a few commands). */
export const MAX_CHANNELS_PER_COMMAND = 500;

/** What the queue needs of its bus (RedisBus). */
export interface SubscriptionHost {
  readonly logger: Logger;
  readonly subscribeTimeoutMs: number;
  /** Cluster: sharded pub/sub, one channel per command (channels of one SSUBSCRIBE must share a slot). */
  readonly sharded: boolean;
  /** The channels wanted now: a change already superseded when its turn comes is not sent. */
  readonly wanted: ReadonlySet<string>;
  isClosed(): boolean;
  /** The subscriber connection (made on first use). */
  subscriber(): Client;
  /** Resolves once the subscriber's first connection is up, or its connect timeout passed. */
  subscriberReady(): Promise<boolean> | undefined;
  /** Corks the subscriber's socket until the next tick (commands of one turn leave in one write). */
  corkUntilNextTick(sub: Client): void;
}

/** (Un)subscriptions of one kind issued one after the other, sent as one command. */
interface Batch {
  readonly on: boolean;
  readonly channels: string[];
  /** Its command's answer (set once sent; undefined when nothing was left to send). */
  answered: Promise<void> | undefined;
}

/**
 * Sends a bus's (un)subscriptions to Redis in call order without waiting for the previous one's
 * answer: Redis applies one connection's commands in order, so a quick subscribe / unsubscribe /
 * subscribe of one channel still ends in the wanted state (a change already superseded when its
 * turn comes is skipped). Each call resolves on its own command's answer.
 *
 * Consecutive calls of the same kind share one command (`SUBSCRIBE a b c`, up to
 * MAX_CHANNELS_PER_COMMAND channels): a hub node joining a watcher to each job it enqueues made
 * one SUBSCRIBE, one ioredis command object, one timer and one reply per job, about a tenth of
 * the node's CPU per job; one command per burst costs that once. Sharded pub/sub (a Cluster)
 * keeps one channel per command: an SSUBSCRIBE's channels must share a slot.
 *
 * (Waiting for each answer before sending the next made every group join of a node queue behind
 * all the others: one round trip each.) Only the subscriber's first connection is waited for, in
 * order. While the subscriber is down a change is only recorded in `wanted` (the reconnect
 * restores every wanted channel), so callers never hang on an outage.
 */
export class SubscriptionQueue {
  /** Orders the sends (and holds them until the first connection); it does not wait for answers. */
  private chain: Promise<void> = Promise.resolve();
  /** The batch still taking calls: the last one queued, until its turn to be sent comes. */
  private open: Batch | undefined;

  constructor(private readonly host: SubscriptionHost) {}

  /** Queues a subscribe (`on`) or unsubscribe of `channel`; resolves when Redis answered it (or it was logged as late or failed). */
  enqueue(channel: string, on: boolean): Promise<void> {
    let batch = this.open;
    if (!batch || batch.on !== on || this.host.sharded || batch.channels.length >= MAX_CHANNELS_PER_COMMAND) {
      const fresh: Batch = { on, channels: [], answered: undefined };
      batch = fresh;
      this.open = fresh;
      this.chain = this.chain.then(() => this.send(fresh));
    }
    batch.channels.push(channel);
    const b = batch;
    return this.chain.then(() => b.answered);
  }

  private async send(batch: Batch): Promise<void> {
    // From here on the batch takes no more calls: later ones go in a batch sent after it.
    if (this.open === batch) this.open = undefined;
    const { host } = this;
    const sub = host.subscriber();
    const current = () => batch.channels.filter((c) => host.wanted.has(c) === batch.on);
    if (host.isClosed() || !current().length) return;
    if (sub.status !== 'ready') await host.subscriberReady();
    const channels = current();
    if (host.isClosed() || !channels.length) return;
    if (!host.sharded && sub.status !== 'ready') return;
    batch.answered = this.command(sub, channels, batch.on);
  }

  /** Issues one (un)subscribe now; resolves on its answer, or (logged) after `subscribeTimeoutMs`, or when it failed (logged). */
  private async command(sub: Client, channels: string[], on: boolean): Promise<void> {
    const { host } = this;
    const what = on ? 'subscribe' : 'unsubscribe';
    try {
      if (!host.sharded) host.corkUntilNextTick(sub);
      const command: Promise<unknown> = host.sharded
        ? on
          ? (sub as Cluster).ssubscribe(...channels)
          : (sub as Cluster).sunsubscribe(...channels)
        : on
          ? (sub as Redis).subscribe(...channels)
          : (sub as Redis).unsubscribe(...channels);
      if ((await withinMs(command, host.subscribeTimeoutMs)) === LATE) {
        host.logger.warn({ channels: channels.length, first: channels[0], timeoutMs: host.subscribeTimeoutMs }, `backplane: Redis has not answered a ${what} within the timeout (frozen or overloaded?); going on, it completes when Redis answers`);
      }
    } catch (err) {
      host.logger.warn({ channels: channels.length, first: channels[0], error: (err as Error).message }, `backplane: ${what} failed; it is retried when Redis reconnects`);
    }
  }
}
