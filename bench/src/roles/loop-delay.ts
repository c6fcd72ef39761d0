import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Preloaded (`--import`) into the hub nodes of the scale scenario: the event loop's delay, from
 * `perf_hooks.monitorEventLoopDelay` (a 10 ms timer; what it records is the time between two of
 * its firings, so an idle loop reads ~10 ms: the figures written are that minus the 10 ms, at
 * least 0). SIGURG (ignored by default, so harmless without this preload) writes the figures
 * since the previous SIGURG as JSON to BENCH_ELD_FILE, in ms, and starts over.
 */
const RESOLUTION_MS = 10;
const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
h.enable();
const ms = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
process.on('SIGURG', () => {
  const file = process.env['BENCH_ELD_FILE'];
  if (file) {
    writeFileSync(file, JSON.stringify({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), p999: ms(h.percentile(99.9)), max: ms(h.max), mean: ms(h.mean), samples: h.count }));
  }
  h.reset();
});
