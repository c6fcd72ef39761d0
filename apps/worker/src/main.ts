import type { JobsClient } from '@switchboard/contracts';
import { createHubContext } from '@switchboard/hub-context';
import { JobsWorker, jobGroup } from '@switchboard/jobs';
import { ConfigError, loadConfig } from './config.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`worker: configuration error: ${err.message}`);
    process.exit(2);
  }
  throw err;
}

const log = (level: string) => (obj: object, msg?: string) =>
  process.stderr.write(`${JSON.stringify({ level, time: Date.now(), app: 'worker', pid: process.pid, ...obj, ...(msg ? { msg } : {}) }, (_k, v) => (v instanceof Error ? { message: v.message } : v))}\n`);
const logger = { info: log('info'), warn: log('warn'), error: log('error') };

const hub = createHubContext<JobsClient>({ hub: 'jobs', redis: config.redis, prefix: config.prefix });
const worker = new JobsWorker({
  redis: config.redis,
  prefix: config.prefix,
  poolSize: config.poolSize,
  concurrency: config.concurrency,
  lockDurationMs: config.lockDurationMs,
  stalledIntervalMs: config.stalledIntervalMs,
  publish: (update) => hub.clients.group(jobGroup(update.jobId)).jobUpdated(update),
  logger,
});
await worker.ready();
console.log(`worker ready: pid ${process.pid}, ${config.poolSize} threads, concurrency ${config.concurrency}`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping: no new jobs; running jobs finish first');
  await worker.close();
  await hub.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
