import type { WorkerStats } from '@switchboard/contracts';
import type { SystemRegistry } from '@switchboard/jobs';

interface HeartbeatLogger {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
}

/**
 * Writes this worker's WorkerStats into the system view every `intervalMs` (hub nodes drop it
 * 5 s after the last write), and removes it on `stop` so a clean shutdown disappears at once.
 * Failures (Redis down) are logged once per outage; the heartbeats resume by themselves.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private failing = false;
  private stopped = false;

  constructor(
    private readonly registry: SystemRegistry,
    private readonly stats: () => WorkerStats,
    private readonly intervalMs: number,
    private readonly logger: HeartbeatLogger,
  ) {}

  start(): void {
    if (this.stopped) return;
    this.timer ??= setInterval(() => void this.beat(), this.intervalMs);
    void this.beat();
  }

  /** Stops beating and removes this worker from the view (best effort). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.beating;
    await this.registry.removeWorker(this.stats().workerId).catch(() => {});
  }

  private beat(): Promise<void> {
    this.beating ??= this.registry
      .reportWorker(this.stats())
      .then(
        () => {
          if (this.failing) this.logger.info({}, 'heartbeat: Redis reachable again');
          this.failing = false;
        },
        (err: Error) => {
          if (!this.failing) this.logger.warn({ error: err.message }, 'heartbeat: writing to Redis failed; retrying every interval');
          this.failing = true;
        },
      )
      .finally(() => (this.beating = undefined));
    return this.beating;
  }
}
