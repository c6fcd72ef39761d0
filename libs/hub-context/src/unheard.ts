import type { Bus, Logger, SendTarget } from '@switchboard/hub-server/backplane';

/** What a hub context's sends reached, since it was created (`ctx.stats()`). */
export interface HubContextStats {
  /** Sends Redis accepted, one per channel: `clients.groups(['a', 'b'])` counts 2. */
  readonly sends: number;
  /**
   * Sends no process received. Normal for a group, user or connection with no member on any
   * node (nobody watches job 42): most of these are not a problem.
   */
  readonly noReceivers: number;
  /**
   * Sends that went nowhere because no hub node serves this hub at all: `hub` is not the last
   * path segment of any mapped hub (a typo), `prefix` differs from the nodes' REDIS_PREFIX, or no
   * node is running. A part of `noReceivers`. Counted once known: a send to a group, user or
   * connection with no receivers may need one `subscribers` probe (below), so it can be counted
   * a round trip after the send resolved.
   */
  readonly unheard: number;
}

/** How long the answer to "does any node serve this hub?" is trusted before it is asked again. */
export const PRESENCE_TTL_MS = 5000;

/** `<prefix><hub>` names already warned about in this process: the warning is given once per name. */
const warned = new Set<string>();

export interface UnheardOptions {
  hub: string;
  prefix: string;
  /** The hub's `all` channel: every node serving the hub subscribes to it, always. */
  allChannel: string;
  bus: Bus;
  logger: Logger;
  now?: () => number;
}

/**
 * Classifies the receiver counts of a hub context's sends (the `sendPublished` hook of its
 * scale-out). PUBLISH says how many subscribers got a send, and the channels say who those are:
 *
 * - `all`: every node serving the hub listens, so 0 receivers means no node serves it. Certain,
 *   and free.
 * - group, user, connection: only nodes holding a member listen, so 0 is usually fine. Whether the
 *   hub is served at all is then asked of the bus (`subscribers(allChannel)`, one PUBSUB NUMSUB),
 *   at most once per PRESENCE_TTL_MS; any send that someone received proves the hub served and
 *   refreshes that answer for free. A bus without `subscribers` cannot tell: such sends count in
 *   `noReceivers` only.
 *
 * So the hot path costs two integer comparisons; a worker sending to empty groups all day probes
 * once per 5 s. An unheard send is logged: a warning the first time per hub name in the process
 * (saying what to check), then at debug level.
 */
export class UnheardSends {
  private sends = 0;
  private noReceivers = 0;
  private unheard = 0;
  private served = false;
  /** Until when `served` holds (0: never known). */
  private knownUntil = 0;
  /** The probe in flight, shared by every send waiting for its answer. */
  private probe: Promise<boolean | undefined> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: UnheardOptions) {
    this.now = options.now ?? Date.now;
  }

  stats(): HubContextStats {
    return { sends: this.sends, noReceivers: this.noReceivers, unheard: this.unheard };
  }

  /** The `sendPublished` hook: one published send and its receiver count. Never throws. */
  published(target: SendTarget, receivers: number): void {
    this.sends++;
    if (receivers > 0) return this.learn(true);
    this.noReceivers++;
    if (target === 'all') {
      this.learn(false);
      return this.count(target);
    }
    if (this.now() < this.knownUntil) {
      if (!this.served) this.count(target);
      return;
    }
    if (!this.options.bus.subscribers) return;
    this.probe ??= this.ask();
    void this.probe.then((served) => {
      if (served === false) this.count(target);
    });
  }

  private learn(served: boolean): void {
    this.served = served;
    this.knownUntil = this.now() + PRESENCE_TTL_MS;
  }

  /** Whether any node serves the hub; undefined when the bus could not answer (not cached). */
  private async ask(): Promise<boolean | undefined> {
    try {
      const served = (await this.options.bus.subscribers!(this.options.allChannel)) > 0;
      this.learn(served);
      return served;
    } catch (err) {
      this.options.logger.debug({ hub: this.options.hub, err }, 'hub context: could not ask the backplane whether any node serves this hub');
      return undefined;
    } finally {
      this.probe = undefined;
    }
  }

  private count(target: SendTarget): void {
    this.unheard++;
    const { hub, prefix } = this.options;
    const key = `${prefix}${hub}`;
    const fields = { hub, prefix, target, unheard: this.unheard };
    if (warned.has(key)) return this.options.logger.debug(fields, `a send to hub '${hub}' reached no hub node: no node serves it`);
    warned.add(key);
    this.options.logger.warn(
      fields,
      `no hub node is subscribed to hub '${hub}' (prefix '${prefix}'), so sends to it reach nobody — check that \`hub\` matches the last path segment of a mapped hub (share a hubRef), that the prefix matches the hub nodes' REDIS_PREFIX, and that hub nodes are running. Later unheard sends to it are logged at debug level; ctx.stats().unheard counts them.`,
    );
  }
}
