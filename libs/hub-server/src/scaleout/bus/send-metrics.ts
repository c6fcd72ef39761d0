import type { Logger } from '../../telemetry/logger.js';
import { SEND_TARGET_NAMES, type TargetKind } from './envelope.js';
import type { BackplaneMetrics } from './scaleout-options.js';
import { wallClockMs } from './wall-clock.js';

/**
 * A scale-out's BackplaneMetrics hooks. They run per send (no closure allocated: check `arrivals`
 * / `publishes` first); one that throws is logged, never breaks a send.
 */
export class SendMetrics {
  /** Whether there is a `sendArrived` hook to call. */
  readonly arrivals: boolean;
  /** Whether there is a `sendPublished` hook to call. */
  readonly publishes: boolean;

  constructor(
    private readonly hubName: string,
    private readonly metrics: BackplaneMetrics | undefined,
    private readonly logger: Logger,
  ) {
    this.arrivals = typeof metrics?.sendArrived === 'function';
    this.publishes = typeof metrics?.sendPublished === 'function';
  }

  /** A send published at `sentAt` (the publisher's wall clock) arrived here. */
  arrived(sentAt: number): void {
    try {
      this.metrics!.sendArrived!(this.hubName, Math.max(0, wallClockMs() - sentAt));
    } catch (err) {
      this.logger.warn({ err }, 'backplane: the sendArrived metrics hook threw');
    }
  }

  /** A send was published and `receivers` subscribers got it. */
  published(target: TargetKind, receivers: number): void {
    try {
      this.metrics!.sendPublished!(this.hubName, SEND_TARGET_NAMES[target], receivers);
    } catch (err) {
      this.logger.warn({ err }, 'backplane: the sendPublished metrics hook threw');
    }
  }
}
