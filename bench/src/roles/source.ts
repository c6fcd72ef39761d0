import { monoMs } from '../clock.js';
import { serve, type Request } from './rpc.js';

/**
 * The sending side of a scenario, shared by every publisher role. `send(seq)` publishes message
 * `seq` (to group `seq % groups`). Two modes:
 * - `max`: as fast as the system delivers: at most `window` deliveries in flight, where in flight =
 *   sent × `perMessage` − delivered, and delivered is the running total the orchestrator forwards
 *   from the load clients (`{ ev: 'delivered', n }`). A closed loop, so no queue (Redis output
 *   buffers, socket buffers) grows without bound and nothing is dropped for being too fast.
 * - `rate`: an open loop at a fixed number of messages per second, paced every millisecond.
 */
export function serveSource(
  send: (seq: number) => void,
  extra: Record<string, (req: Request) => unknown> = {},
  onStop?: () => Promise<void> | void,
  /** Called after each burst of sends (a pipelined publisher writes them here). */
  endBurst?: () => void,
): void {
  let delivered = 0;
  let seq = 0;
  let wake: (() => void) | undefined;

  serve(
    {
      ...extra,
      async max(req) {
        const { durationMs, window, perMessage } = req as unknown as { durationMs: number; window: number; perMessage: number };
        const end = monoMs() + durationMs;
        let sent = 0;
        await new Promise<void>((resolve) => {
          const pump = () => {
            if (monoMs() >= end) {
              clearInterval(timer);
              wake = undefined;
              return resolve();
            }
            // Deliveries are cumulative over the process's life, like `seq`.
            const allowed = Math.floor((delivered + window) / perMessage);
            if (seq >= allowed) return;
            while (seq < allowed) {
              send(seq++);
              sent++;
            }
            endBurst?.();
          };
          const timer = setInterval(pump, 2);
          wake = pump;
          pump();
        });
        return { sent };
      },
      async rate(req) {
        const { perSecond, durationMs } = req as unknown as { perSecond: number; durationMs: number };
        const t0 = monoMs();
        let sent = 0;
        await new Promise<void>((resolve) => {
          const timer = setInterval(() => {
            const elapsed = monoMs() - t0;
            const due = Math.floor((Math.min(elapsed, durationMs) / 1000) * perSecond);
            if (sent < due) {
              while (sent < due) {
                send(seq++);
                sent++;
              }
              endBurst?.();
            }
            if (elapsed >= durationMs) {
              clearInterval(timer);
              resolve();
            }
          }, 1);
        });
        return { sent };
      },
      async stop() {
        await onStop?.();
        return null;
      },
    },
    (e) => {
      if (e.ev === 'delivered') {
        delivered = e['n'] as number;
        wake?.();
      }
    },
  );
}

/** Padding that brings a JSON `tick` invocation to about 100 bytes on the wire. */
export const PAD = 'x'.repeat(24);
