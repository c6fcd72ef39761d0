import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { send, serve } from './rpc.js';

/**
 * Raw BullMQ, the jobs limit: a BullMQ Worker with a no-op processor and nothing else (no job
 * store, no publish, no threads), with the same lock and stalled-check options as Switchboard's
 * JobsWorker. Completions are counted here ('completed' events) and reported every 10 ms, so the
 * producer can keep a fixed number of jobs in flight.
 */
const connection = new Redis(process.env['REDIS_URL']!, { maxRetriesPerRequest: null });
let completed = 0;
let failed = 0;
const worker = new Worker(process.env['QUEUE']!, async () => null, {
  connection,
  prefix: process.env['BULL_PREFIX']!,
  concurrency: Number(process.env['CONCURRENCY']),
  lockDuration: 10_000,
  stalledInterval: 5_000,
  maxStalledCount: 3,
});
worker.on('completed', () => completed++);
worker.on('failed', () => failed++);
worker.on('error', (err) => process.stderr.write(`bull-worker: ${err.message}\n`));

let reported = -1;
setInterval(() => {
  if (completed === reported) return;
  reported = completed;
  send({ ev: 'count', n: completed });
}, 10).unref();

serve({
  async ready() {
    await worker.waitUntilReady();
    return null;
  },
  count: () => ({ completed, failed }),
  async stop() {
    await worker.close();
    await connection.quit();
    return { completed, failed };
  },
});
