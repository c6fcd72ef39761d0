import { defineJob, defineTask } from '@switchboard/jobs';
import { z } from 'zod';

/**
 * The benchmark's job set (`JOBS_MODULE=bench/jobs/bench-jobs.mjs` on hub nodes and workers, see
 * bench/src/jobs-scenario.ts). Plain JavaScript so it loads as is, without a build step.
 * - `noop`: returns at once: what is left is the pipeline's own cost per job.
 * - `thread`: one tiny CPU task through `ctx.run` (a piscina hop and back).
 * - `progress`: reports progress every 20 ms (coalesced by the worker to ~10/s) until told to stop.
 */

const tinyTask = defineTask(new URL('./tiny.task.mjs', import.meta.url));

export const noopJob = defineJob({
  name: 'noop',
  schema: z.object({}).strict(),
  async process() {
    return null;
  },
});

export const threadJob = defineJob({
  name: 'thread',
  schema: z.object({ n: z.number().int().min(1).max(1_000_000).optional() }).strict(),
  async process(ctx, data) {
    return ctx.run(tinyTask, { n: data.n ?? 1000 });
  },
});

/** Where the benchmark says that the running `progress` jobs may end (a Redis PUBLISH, any payload). */
export const PROGRESS_STOP_CHANNEL = 'bench:progress-stop';

/**
 * One timer per process drives every running `progress` job (not one per job): 1,000 jobs with a
 * timer each would cost the worker more in wake-ups than the progress path being measured.
 */
const reporters = new Set();
let ticker;
function tick() {
  for (const report of reporters) report();
}

/**
 * `progress` jobs run until the benchmark publishes on PROGRESS_STOP_CHANNEL (or until `until`, a
 * safety cap): a burst of 1,000 takes however long the machine needs to enqueue, and the window
 * is measured once all of them run. The subscriber (the worker's REDIS_URL) opens with the first one.
 */
let stopSeenAt = 0;
let stopListener;
function listenForStop() {
  const url = process.env.REDIS_URL;
  if (stopListener || !url) return;
  stopListener = import('ioredis').then(({ Redis }) => {
    const sub = new Redis(url, { maxRetriesPerRequest: null });
    sub.on('message', () => (stopSeenAt = Date.now()));
    sub.on('error', () => {});
    return sub.subscribe(PROGRESS_STOP_CHANNEL);
  });
}

export const progressJob = defineJob({
  name: 'progress',
  schema: z.object({ until: z.number().int().min(0) }).strict(),
  async process(ctx, data) {
    listenForStop();
    await stopListener;
    const started = Date.now();
    const cap = Math.min(data.until, started + 600_000);
    return new Promise((resolve, reject) => {
      const report = () => {
        const now = Date.now();
        if (now >= cap || stopSeenAt >= started || ctx.signal.aborted) {
          reporters.delete(report);
          if (!reporters.size) {
            clearInterval(ticker);
            ticker = undefined;
          }
          if (ctx.signal.aborted) reject(ctx.signal.reason);
          else resolve({ ms: now - started });
          return;
        }
        // A new value at every call (1-99, round and round): 0 is the first `active` update's.
        ctx.progress(1 + (Math.floor((now - started) / 20) % 99));
      };
      reporters.add(report);
      ticker ??= setInterval(tick, 20);
    });
  },
});

export default [noopJob, threadJob, progressJob];
