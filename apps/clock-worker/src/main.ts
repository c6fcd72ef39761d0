import type { ClockClient } from '@switchboard/contracts';
import { createHubContext } from '@switchboard/hub-context';
import { ConfigError, loadConfig } from './config.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`clock-worker: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
const { redis, prefix, intervalMs } = config;

const hub = createHubContext<ClockClient>({ hub: 'clock', redis, prefix });
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
