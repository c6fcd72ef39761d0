import { redisTargetFromEnv } from '@switchboard/backplane-redis';
import { createHubContext } from '@switchboard/hub-context';

/** The clock hub's client interface (served by apps/hub at /hubs/clock). */
interface ClockClient {
  onTimeReceived(time: string): void;
}

const redis = redisTargetFromEnv(process.env);
if (!redis) {
  console.error('clock-worker: set REDIS_URL (e.g. redis://127.0.0.1:6379) or REDIS_CLUSTER_NODES; the worker reaches hub nodes only through Redis.');
  process.exit(2);
}
const intervalMs = Number(process.env['INTERVAL_MS'] ?? 1000);
if (!Number.isInteger(intervalMs) || intervalMs < 10) {
  console.error(`clock-worker: INTERVAL_MS must be an integer >= 10, got '${process.env['INTERVAL_MS']}'.`);
  process.exit(2);
}

const hub = createHubContext<ClockClient>({ hub: 'clock', redis, prefix: process.env['REDIS_PREFIX'] ?? 'sb:' });
console.log(`clock-worker: publishing onTimeReceived every ${intervalMs} ms`);

let failing = false;
const timer = setInterval(() => {
  hub.clients.all.onTimeReceived(new Date().toISOString()).then(
    () => {
      if (failing) console.log('clock-worker: Redis is reachable again');
      failing = false;
    },
    (err: Error) => {
      if (!failing) console.error(`clock-worker: ${err.message}`);
      failing = true;
    },
  );
}, intervalMs);

const stop = async () => {
  clearInterval(timer);
  await hub.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
