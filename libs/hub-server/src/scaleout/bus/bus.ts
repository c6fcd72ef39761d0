/**
 * A publish/subscribe transport between hub nodes (and publishers such as workers). It only
 * publishes and delivers bytes; all routing lives in BusScaleOut.
 *
 * Guarantees an implementation must give: messages published by one bus instance to one channel
 * are delivered in publish order; delivery is at-most-once (nothing is stored or replayed);
 * `publish` rejects at once with SB_BACKPLANE_UNAVAILABLE when the bus is unreachable (no hidden
 * queue); subscriptions requested while the bus is unreachable, and all active ones, are restored
 * when it comes back.
 */
export interface Bus {
  /** Resolves with the number of subscribers that got the message (0 when none listen). */
  publish(channel: string, payload: Uint8Array): Promise<number>;
  /**
   * How many subscribers `channel` has now (what `publish` would return), without publishing
   * anything (Redis: PUBSUB NUMSUB; on a Cluster, SHARDNUMSUB summed over its nodes). Rejects
   * with SB_BACKPLANE_UNAVAILABLE when the bus is unreachable. Optional (added later; a bus
   * without it still works): hub contexts use it, off the hot path, to tell "no node serves this
   * hub" from "no node holds a member of this group".
   */
  subscribers?(channel: string): Promise<number>;
  /** Idempotent per channel; resolves when active, or at once if the bus is down (restored later). */
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** Registers a listener for messages on every subscribed channel; returns a remover. */
  onMessage(listener: (channel: string, payload: Uint8Array) => void): () => void;
  /**
   * Registers a listener for "subscriptions are live again after the bus was unreachable":
   * messages published meanwhile were lost for this process (at-most-once), so state that must
   * not be missed is re-read. Called after every resubscription is confirmed. Optional: a bus that
   * never loses messages (in memory) has no such event. Returns a remover.
   */
  onRestored?(listener: () => void): () => void;
  /** Whether publishes can currently reach the bus. */
  readonly connected: boolean;
  close(): Promise<void>;
}
