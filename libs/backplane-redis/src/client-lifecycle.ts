import type { Cluster, Redis } from 'ioredis';

/**
 * How every client Switchboard builds reconnects: forever, with a capped backoff (100 ms, 200 ms,
 * ... up to 2 s between attempts), so a hub node or worker outlives any Redis outage. Pass it as
 * ioredis' `retryStrategy`, `clusterRetryStrategy` or `sentinelRetryStrategy`.
 */
export const reconnectBackoff = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2000);

/**
 * Closes `client`: QUIT (pending replies arrive first) for at most `timeoutMs`, then a hard
 * disconnect, so closing never hangs on an unreachable Redis (and stops reconnect attempts).
 * Never throws (a client closed already is fine).
 */
export async function quitClient(client: Redis | Cluster, timeoutMs = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([client.quit(), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
  } catch {
    // already closed
  } finally {
    clearTimeout(timer); // a process closing its clients must not wait out the timeout
  }
  client.disconnect();
}
