import { monoMs } from '../clock.js';
import { serve, type Request } from './rpc.js';

/**
 * The sending side of a scenario, shared by every publisher role. `send(seq)` publishes message
 * `seq` (to group `seq % groups`). Two modes:
 * - `max`: as fast as the system delivers: at most `window` deliveries in flight, where in flight =
 *   sent × `perMessage` − delivered, and delivered is the running total the orchestrator forwards
 *   from the load clients (`{ ev: 'delivered', n }`). A closed loop, so no queue (Redis output
 *   buffers, socket buffers) grows without bound and nothing is dropped for being too fast.
 * - `rate`: an open loop at a fixed number of messages per second, paced every millisecond (every
 *   1,000 / rate ms, up to 5, below 1,000 messages a second).
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
        // No finer than the messages need: one tick per message below 1,000 a second, at most 5 ms
        // apart (each message is stamped when it is sent, so the tick does not add to its latency).
        // A timer wake-up costs about 0.1 ms of CPU on these VMs: a 1 ms tick alone took 10% of
        // a core from the processes being measured.
        const tickMs = Math.min(5, Math.max(1, Math.floor(1000 / perSecond)));
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
          }, tickMs);
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
