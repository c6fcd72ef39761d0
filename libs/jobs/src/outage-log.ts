import type { Cluster, Redis } from 'ioredis';

export interface JobsLogger {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
  error(o: object, m?: string): void;
}

export const SILENT: JobsLogger = { info() {}, warn() {}, error() {} };

/**
 * Gives a Redis client an `error` listener that logs through the process's JSON logger: once when
 * an outage starts (not once per reconnect attempt), and once when the connection is ready again.
 * Without a listener ioredis prints "[ioredis] Unhandled error event" lines that are not JSON.
 */
export function logOutages(client: Redis | Cluster, log: JobsLogger, what: string): void {
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.warn({ error: err.message }, `${what}: Redis unreachable; retrying`);
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({}, `${what}: Redis reachable again`);
  });
}
