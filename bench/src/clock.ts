/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC, shared by every process on the
 * machine), with sub-microsecond resolution: a publisher stamps a message with it and a client in
 * another process subtracts it from its own reading to get the publish-to-receive latency.
 * `performance.now()` alone counts from each process's start, so it is shifted once to that clock.
 */
const offset = Number(process.hrtime.bigint()) / 1e6 - performance.now();

export function monoMs(): number {
  return performance.now() + offset;
}
