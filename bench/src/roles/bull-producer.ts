import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { serve } from './rpc.js';

/**
 * Raw BullMQ's producer: one process adding no-op jobs with `addBulk` (one bulk in flight at a
 * time), closed loop: at most `window` jobs added and not yet completed, where completed is the
 * workers' total the orchestrator forwards (`{ ev: 'delivered', n }`). The queue never grows
 * without bound, so every measurement is a steady state. Job options are Switchboard's
 * (JobsService.enqueue): the difference measured is the pipeline, not BullMQ's settings.
 */
const connection = new Redis(process.env['REDIS_URL']!, { maxRetriesPerRequest: null });
const queue = new Queue(process.env['QUEUE']!, { connection, prefix: process.env['BULL_PREFIX']! });
const OPTS = { attempts: 1, removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600, count: 1000 } };
let completed = 0;
let added = 0;
let running = false;
let wake: (() => void) | undefined;
let loop: Promise<void> = Promise.resolve();

async function pump(window: number, batch: number): Promise<void> {
  while (running) {
    const room = completed + window - added;
    // Wait for room for a useful bulk (a quarter of one) rather than trickle single jobs.
    if (room < Math.min(batch, window) / 4) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 5);
      });
      wake = undefined;
      continue;
    }
    const n = Math.min(room, batch);
    await queue.addBulk(Array.from({ length: n }, () => ({ name: 'noop', data: {}, opts: OPTS })));
    added += n;
  }
}

serve(
  {
    start(req) {
      const { window, batch } = req as unknown as { window: number; batch: number };
      running = true;
      loop = pump(window, batch);
      return null;
    },
    /** Stops adding; resolves when the last bulk is in, with what was added in total. */
    async stop() {
      running = false;
      wake?.();
      await loop;
      return { added };
    },
    /** BullMQ's own counts, to check that nothing is left waiting or active after the drain. */
    counts: () => queue.getJobCounts('wait', 'active', 'delayed', 'failed'),
    async close() {
      await queue.close();
      await connection.quit();
      return null;
    },
  },
  (e) => {
    if (e.ev === 'delivered') {
      completed = e['n'] as number;
      wake?.();
    }
  },
);
