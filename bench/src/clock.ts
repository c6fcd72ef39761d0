/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC through `process.hrtime`, shared
 * by every process on the machine), with sub-microsecond resolution: a publisher stamps a message
 * with it and a client in another process subtracts it from its own reading to get the
 * publish-to-receive latency. (`performance.now()` is not usable across processes: it counts from
 * each process's start and, measured here, drifts against hrtime by about 1 ms per second.)
 */
export function monoMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}
