import type { Cluster, Redis } from 'ioredis';

/**
 * How every client Switchboard builds reconnects: forever, with a capped backoff (100 ms, 200 ms,
 * ... up to 2 s between attempts), so a hub node or worker outlives any Redis outage. Pass it as
 * ioredis' `retryStrategy`, `clusterRetryStrategy` or `sentinelRetryStrategy`.
 */
export const reconnectBackoff = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2000);

/** What `withinMs` answers when the time ran out first. */
export const LATE = Symbol('late');

/**
 * `work`'s value, or LATE once `ms` passed without an answer (the work itself goes on; a later
 * rejection of it is swallowed). The timer is cleared as soon as either settles, so it never
 * holds a closing process open. For rare commands (quit, (un)subscriptions); publishes share one
 * timer (deadlines.ts).
 */
export async function withinMs<T>(work: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([work, new Promise<typeof LATE>((resolve) => (timer = setTimeout(() => resolve(LATE), ms)))]);
    if (answer === LATE) work.catch(() => {});
    return answer;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Closes `client`: QUIT (pending replies arrive first) for at most `timeoutMs`, then a hard
 * disconnect, so closing never hangs on an unreachable Redis (and stops reconnect attempts).
 * Never throws (a client closed already is fine).
 */
export async function quitClient(client: Redis | Cluster, timeoutMs = 1000): Promise<void> {
  try {
    await withinMs(client.quit(), timeoutMs);
  } catch {
    // already closed
  }
  client.disconnect();
}
